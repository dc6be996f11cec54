#include "checkpoint_hdf5.hpp"

#include <stdexcept>
#include <vector>

namespace hemeplm::parallel_io::checkpoint_detail {

std::string hdf5_reason() {
  std::string reason;
  // Walking upward visits the innermost error (where HDF5 detected the problem) first.
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
        if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
        return 0;
      },
      &reason);
  return reason;
}

h5::Plist checkpoint_file_access(bool writing) {
  auto fapl = h5::Plist(H5Pcreate(H5P_FILE_ACCESS));
  if (writing) H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl.get(), true, true);
#endif
  return fapl;
}

h5::Type variable_string_type() {
  auto type = h5::Type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

namespace {

bool write_scalar_attribute(hid_t object, const char* name, hid_t file_type, hid_t memory_type,
                            const void* value) {
  const auto space = h5::Space(H5Screate(H5S_SCALAR));
  const auto attribute =
      h5::Attribute(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  return attribute.valid() && H5Awrite(attribute.get(), memory_type, value) >= 0;
}

/// Opens an attribute that must be a scalar (or a one-element array, as h5py sometimes writes).
std::optional<h5::Attribute> open_scalar_attribute(hid_t object, const char* name) {
  const htri_t exists = H5Aexists(object, name);
  if (exists < 0) throw std::runtime_error("cannot be read");
  if (exists == 0) return std::nullopt;
  auto attribute = h5::Attribute(H5Aopen(object, name, H5P_DEFAULT));
  if (!attribute.valid()) throw std::runtime_error("cannot be opened");
  const auto space = h5::Space(H5Aget_space(attribute.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) throw std::runtime_error("is not a single value");
  return attribute;
}

}  // namespace

bool write_string_attribute(hid_t object, const char* name, const std::string& value) {
  const auto type = variable_string_type();
  const char* text = value.c_str();
  return write_scalar_attribute(object, name, type.get(), type.get(), &text);
}

bool write_int64_attribute(hid_t object, const char* name, std::int64_t value) {
  return write_scalar_attribute(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

bool write_int32_attribute(hid_t object, const char* name, int value) {
  return write_scalar_attribute(object, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value);
}

std::optional<std::string> read_string_attribute(hid_t object, const char* name) {
  const std::optional<h5::Attribute> attribute = open_scalar_attribute(object, name);
  if (!attribute) return std::nullopt;
  const auto type = h5::Type(H5Aget_type(attribute->get()));
  if (H5Tget_class(type.get()) != H5T_STRING) throw std::runtime_error("is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    const auto memory_type = variable_string_type();
    char* text = nullptr;
    if (H5Aread(attribute->get(), memory_type.get(), &text) < 0) throw std::runtime_error("cannot be read");
    std::string value = text != nullptr ? std::string(text) : std::string();
    H5free_memory(text);
    return value;
  }
  // Fixed-length strings (numpy bytes from h5py): read the raw bytes and stop at the first NUL.
  const std::size_t size = H5Tget_size(type.get());
  std::vector<char> buffer(size + 1, '\0');
  const auto memory_type = h5::Type(H5Tcopy(H5T_C_S1));
  H5Tset_size(memory_type.get(), size + 1);
  H5Tset_strpad(memory_type.get(), H5T_STR_NULLTERM);
  if (H5Aread(attribute->get(), memory_type.get(), buffer.data()) < 0)
    throw std::runtime_error("cannot be read");
  return std::string(buffer.data());
}

std::optional<std::int64_t> read_integer_attribute(hid_t object, const char* name) {
  const std::optional<h5::Attribute> attribute = open_scalar_attribute(object, name);
  if (!attribute) return std::nullopt;
  const auto type = h5::Type(H5Aget_type(attribute->get()));
  if (H5Tget_class(type.get()) != H5T_INTEGER) throw std::runtime_error("is not an integer");
  std::int64_t value = 0;
  if (H5Aread(attribute->get(), H5T_NATIVE_INT64, &value) < 0) throw std::runtime_error("cannot be read");
  return value;
}

std::string escape_name(const std::string& name) {
  if (name == ".") return "%2E";
  std::string link;
  link.reserve(name.size());
  for (const char c : name) {
    if (c == '%') {
      link += "%25";
    } else if (c == '/') {
      link += "%2F";
    } else {
      link += c;
    }
  }
  return link;
}

std::optional<std::string> unescape_name(const std::string& link) {
  std::string name;
  name.reserve(link.size());
  for (std::size_t i = 0; i < link.size(); ++i) {
    if (link[i] != '%') {
      name += link[i];
      continue;
    }
    if (i + 2 >= link.size()) return std::nullopt;  // a '%' needs two more characters
    const std::string code = link.substr(i + 1, 2);
    if (code == "25") {
      name += '%';
    } else if (code == "2F" || code == "2f") {
      name += '/';
    } else if (code == "2E" || code == "2e") {
      name += '.';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return name;
}

}  // namespace hemeplm::parallel_io::checkpoint_detail
