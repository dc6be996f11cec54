// Internal to the H5MD writer and reader: move-only owners of HDF5 identifiers and the small typed
// helpers both need (VL-string attributes, whole-dataset reads and writes). Every failure throws
// h5::Failure naming the object, so the caller can turn it into an InputError (reader) or Error
// (writer) that names the file too.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace hemeplm::parallel_io::h5 {

/// A failed HDF5 call: `where` is the object path inside the file, what() the problem.
class Failure : public std::runtime_error {
 public:
  Failure(std::string where, const std::string& problem)
      : std::runtime_error(problem), where_(std::move(where)) {}
  const std::string& where() const noexcept { return where_; }

 private:
  std::string where_;
};

/// Owns one hid_t; Close is the matching H5?close function.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { close(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, -1);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes now; false when HDF5 reports a failure (closing a file writes its last metadata, so a
  /// writer must see that instead of losing it in a destructor).
  bool close() { return id_ < 0 || Close(std::exchange(id_, -1)) >= 0; }
  /// Gives up ownership without closing (only for a collective close that must not run, see writer).
  hid_t release() { return std::exchange(id_, -1); }

 private:
  hid_t id_ = -1;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Space = Handle<H5Sclose>;
using Type = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using Plist = Handle<H5Pclose>;

/// HDF5 prints its error stack to stderr by default; hemeplm reports one line itself.
inline void silence_errors() {
  H5Eset_auto(H5E_DEFAULT, nullptr, nullptr);
}

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
  if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
}

/// Stored file type for T: little-endian IEEE/integers, whatever the machine.
template <class T>
hid_t file_type() {
  if constexpr (std::is_same_v<T, float>) return H5T_IEEE_F32LE;
  if constexpr (std::is_same_v<T, double>) return H5T_IEEE_F64LE;
  if constexpr (std::is_same_v<T, std::int32_t>) return H5T_STD_I32LE;
  if constexpr (std::is_same_v<T, std::int64_t>) return H5T_STD_I64LE;
}

inline void check(herr_t status, const std::string& where, const char* what) {
  if (status < 0) throw Failure(where, what);
}

/// A variable-length ASCII string type: MDAnalysis rejects fixed-length unit strings.
inline Type vl_string_type() {
  Type type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_ASCII);
  return type;
}

inline Space simple_space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return Space(H5Screate(H5S_SCALAR));
  return Space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

inline Group create_group(hid_t loc, const std::string& name) {
  Group group(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!group.valid()) throw Failure(name, "cannot create group");
  return group;
}

inline bool exists(hid_t loc, const std::string& path) {
  // H5Lexists fails (negative) rather than returning false when an intermediate group is missing.
  std::string prefix;
  std::size_t start = path[0] == '/' ? 1 : 0;
  if (start == 1) prefix = "/";
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    prefix += path.substr(start, end - start);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (end == std::string::npos) break;
    prefix += '/';
    start = end + 1;
  }
  return true;
}

inline void write_string_attribute(hid_t obj, const std::string& name, const std::string& value) {
  const Type type = vl_string_type();
  const Space space(H5Screate(H5S_SCALAR));
  const Attribute attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* data = value.c_str();
  if (!attr.valid() || H5Awrite(attr.get(), type.get(), &data) < 0)
    throw Failure(name, "cannot write attribute");
}

inline void write_strings_attribute(hid_t obj, const std::string& name,
                                    const std::vector<std::string>& values) {
  const Type type = vl_string_type();
  const Space space = simple_space({values.size()});
  std::vector<const char*> data;
  for (const std::string& value : values) data.push_back(value.c_str());
  const Attribute attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.get(), type.get(), data.data()) < 0)
    throw Failure(name, "cannot write attribute");
}

/// An int32 attribute: scalar when `scalar`, else a 1-D array.
inline void write_int_attribute(hid_t obj, const std::string& name, const std::vector<std::int32_t>& values,
                                bool scalar) {
  const Space space = scalar ? simple_space({}) : simple_space({values.size()});
  const Attribute attr(H5Acreate2(obj, name.c_str(), H5T_STD_I32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.get(), H5T_NATIVE_INT32, values.data()) < 0)
    throw Failure(name, "cannot write attribute");
}

/// Creates or overwrites a scalar int64 attribute (collective in a parallel file: same value everywhere).
inline void write_int64_attribute(hid_t obj, const std::string& name, std::int64_t value) {
  const Space space(H5Screate(H5S_SCALAR));
  const Attribute attr(H5Aexists(obj, name.c_str()) > 0 ? H5Aopen(obj, name.c_str(), H5P_DEFAULT)
                                                        : H5Acreate2(obj, name.c_str(), H5T_STD_I64LE,
                                                                     space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0)
    throw Failure(name, "cannot write attribute");
}

/// A scalar int64 attribute, or nullopt-like `found = false` when it is absent.
inline std::int64_t read_int64_attribute(hid_t obj, const std::string& name, bool& found) {
  found = H5Aexists(obj, name.c_str()) > 0;
  std::int64_t value = 0;
  if (!found) return value;
  const Attribute attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid() || H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0)
    throw Failure(name, "cannot read attribute");
  return value;
}

/// A whole contiguous dataset written at once (serial file only: static data).
template <class T>
void write_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const T* data) {
  const Space space = simple_space(dims);
  const Dataset set(
      H5Dcreate2(loc, name.c_str(), file_type<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!set.valid() || H5Dwrite(set.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw Failure(name, "cannot write dataset");
}

inline void write_strings_dataset(hid_t loc, const std::string& name,
                                  const std::vector<std::string>& values) {
  const Type type = vl_string_type();
  const Space space = simple_space({values.size()});
  std::vector<const char*> data;
  for (const std::string& value : values) data.push_back(value.c_str());
  const Dataset set(
      H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!set.valid() || H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw Failure(name, "cannot write dataset");
}

inline Dataset open_dataset(hid_t loc, const std::string& path) {
  if (!exists(loc, path)) throw Failure(path, "missing dataset");
  Dataset set(H5Dopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!set.valid()) throw Failure(path, "cannot open dataset (not a dataset, or the file is corrupt)");
  return set;
}

/// Opens a dataset read in pieces far larger than a chunk cache (frames x atoms). Without filters the
/// cache only adds a copy of every chunk it passes through (about 6x slower for random training
/// windows), so it is switched off; compressed datasets keep it, since decompression is per chunk.
inline Dataset open_streamed_dataset(hid_t loc, const std::string& path) {
  Dataset set = open_dataset(loc, path);
  const Plist dcpl(H5Dget_create_plist(set.get()));
  if (dcpl.valid() && H5Pget_nfilters(dcpl.get()) == 0) {
    const Plist dapl(H5Pcreate(H5P_DATASET_ACCESS));
    H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0);
    Dataset uncached(H5Dopen2(loc, path.c_str(), dapl.get()));
    if (uncached.valid()) return uncached;
  }
  return set;
}

inline std::vector<hsize_t> dims_of(hid_t dataset) {
  const Space space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

/// Reads a whole numeric dataset, converting to T (HDF5 converts int/float widths).
template <class T>
std::vector<T> read_all(hid_t loc, const std::string& path, std::vector<hsize_t>* dims_out = nullptr) {
  const Dataset set = open_dataset(loc, path);
  const std::vector<hsize_t> dims = dims_of(set.get());
  if (H5Tget_class(Type(H5Dget_type(set.get())).get()) == H5T_STRING)
    throw Failure(path, "holds strings, not numbers");
  std::size_t size = 1;
  for (hsize_t d : dims) size *= d;
  std::vector<T> values(size);
  if (size > 0 && H5Dread(set.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw Failure(path, "cannot read dataset (the file is truncated or corrupt)");
  if (dims_out) *dims_out = dims;
  return values;
}

/// Reads string data of `type` held by a dataset or attribute (`read` does the H5Dread/H5Aread).
template <class Read>
std::vector<std::string> read_string_data(hid_t type, std::size_t count, const std::string& where,
                                          Read read) {
  if (H5Tget_class(type) != H5T_STRING) throw Failure(where, "holds numbers, not strings");
  std::vector<std::string> out;
  out.reserve(count);
  if (H5Tis_variable_str(type) > 0) {
    // Same character set as stored: HDF5 does not convert UTF-8 (h5py's default) to ASCII.
    const Type memory = vl_string_type();
    H5Tset_cset(memory.get(), H5Tget_cset(type));
    std::vector<char*> data(count, nullptr);
    if (count > 0 && read(memory.get(), data.data()) < 0) throw Failure(where, "cannot read strings");
    for (char* text : data) out.emplace_back(text ? text : "");
    // VL strings are allocated by HDF5; free them with the C library as its documentation says.
    for (char* text : data) H5free_memory(text);
  } else {
    const std::size_t width = H5Tget_size(type);
    const Type memory(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory.get(), width);
    H5Tset_cset(memory.get(), H5Tget_cset(type));
    std::vector<char> data(count * width + 1, '\0');
    if (count > 0 && read(memory.get(), data.data()) < 0) throw Failure(where, "cannot read strings");
    for (std::size_t i = 0; i < count; ++i) {
      std::string text(data.data() + i * width, width);
      text.erase(text.find_last_not_of(std::string(" \0", 2)) + 1);
      out.push_back(text);
    }
  }
  return out;
}

/// Reads a 1-D string dataset, variable- or fixed-length.
inline std::vector<std::string> read_strings(hid_t loc, const std::string& path) {
  const Dataset set = open_dataset(loc, path);
  const std::vector<hsize_t> dims = dims_of(set.get());
  if (dims.size() != 1) throw Failure(path, "is not a 1-D string array");
  const Type type(H5Dget_type(set.get()));
  return read_string_data(type.get(), dims[0], path, [&](hid_t memory, void* buffer) {
    return H5Dread(set.get(), memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  });
}

/// Reads a scalar (or first element of a 1-D) string attribute; `found` is false when it is absent.
inline std::string read_string_attribute(hid_t obj, const std::string& where, const std::string& name,
                                         bool* found) {
  *found = H5Aexists(obj, name.c_str()) > 0;
  if (!*found) return {};
  const Attribute attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  const Type type(H5Aget_type(attr.get()));
  const Space space(H5Aget_space(attr.get()));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 1) throw Failure(where, "attribute '" + name + "' is empty");
  const std::vector<std::string> values =
      read_string_data(type.get(), static_cast<std::size_t>(count), where + " attribute '" + name + "'",
                       [&](hid_t memory, void* buffer) { return H5Aread(attr.get(), memory, buffer); });
  return values[0];
}

}  // namespace hemeplm::parallel_io::h5
