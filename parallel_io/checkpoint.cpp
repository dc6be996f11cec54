#include "hemeplm/parallel_io/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "checkpoint_hdf5.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::parallel_io {

using namespace checkpoint_detail;  // NOLINT: internal helpers of this file only
namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "hemeplm-checkpoint";
constexpr const char* kGroups[] = {"parameters", "optimizer", "ema", "rng"};

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Bytes of a tensor of this shape and dtype; nullopt for a negative dimension or on overflow.
std::optional<std::uint64_t> tensor_bytes(const std::vector<std::int64_t>& shape, DType dtype) {
  std::uint64_t bytes = dtype_size(dtype);
  for (const std::int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(dim))
      return std::nullopt;
    bytes *= static_cast<std::uint64_t>(dim);
  }
  return bytes;
}

hid_t file_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_IEEE_F32LE;
    case DType::kFloat64:
      return H5T_IEEE_F64LE;
    case DType::kInt64:
      return H5T_STD_I64LE;
    case DType::kInt32:
      return H5T_STD_I32LE;
    case DType::kUInt8:
      return H5T_STD_U8LE;
  }
  return -1;
}

hid_t memory_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_NATIVE_FLOAT;
    case DType::kFloat64:
      return H5T_NATIVE_DOUBLE;
    case DType::kInt64:
      return H5T_NATIVE_INT64;
    case DType::kInt32:
      return H5T_NATIVE_INT32;
    case DType::kUInt8:
      return H5T_NATIVE_UINT8;
  }
  return -1;
}

/// The DType of a dataset's stored type, or nullopt for anything a checkpoint does not hold.
std::optional<DType> dtype_of(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      if (size == 4) return DType::kFloat32;
      if (size == 8) return DType::kFloat64;
      return std::nullopt;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (is_signed && size == 8) return DType::kInt64;
      if (is_signed && size == 4) return DType::kInt32;
      if (!is_signed && size == 1) return DType::kUInt8;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

/// Rejects what could never be written correctly before any file is touched.
void validate(const Checkpoint& checkpoint) {
  const std::vector<TensorRecord>* groups[] = {&checkpoint.parameters, &checkpoint.optimizer, &checkpoint.ema,
                                               &checkpoint.rng};
  for (std::size_t g = 0; g < 4; ++g) {
    std::set<std::string> names;
    for (const TensorRecord& record : *groups[g]) {
      const std::string where = std::string("checkpoint tensor /") + kGroups[g] + "/" + record.name;
      if (record.name.empty())
        throw UsageError(std::string("checkpoint tensor in /") + kGroups[g] + " has no name");
      if (!names.insert(record.name).second) throw UsageError(where + " appears twice");
      const std::optional<std::uint64_t> bytes = tensor_bytes(record.shape, record.dtype);
      if (!bytes) throw UsageError(where + " has an invalid shape " + shape_text(record.shape));
      if (*bytes != record.data.size())
        throw UsageError(where + " has " + std::to_string(record.data.size()) + " bytes of data, shape " +
                         shape_text(record.shape) + " " + to_string(record.dtype) + " needs " +
                         std::to_string(*bytes));
    }
  }
}

/// Creates the temporary file (mkstemp, so concurrent writers never collide) and removes it again
/// unless released after the rename.
class TemporaryPath {
 public:
  explicit TemporaryPath(const std::string& target) {
    const fs::path path(target);
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::string pattern = (folder / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0)
      throw InputError(target, std::string("cannot create a temporary file in ") + folder.string() + ": " +
                                   std::strerror(errno));
    ::close(fd);  // HDF5 reopens it by name
    path_ = pattern;
    folder_ = folder.string();
  }
  ~TemporaryPath() {
    if (!released_) ::unlink(path_.c_str());
  }
  TemporaryPath(const TemporaryPath&) = delete;
  TemporaryPath& operator=(const TemporaryPath&) = delete;
  const std::string& path() const { return path_; }
  const std::string& folder() const { return folder_; }
  void release() { released_ = true; }

 private:
  std::string path_, folder_;
  bool released_ = false;
};

bool fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  return ::close(fd) == 0 && ok;
}

void write_group(const std::string& path, hid_t file, const char* group_name,
                 const std::vector<TensorRecord>& records) {
  // Creation order is tracked so that reading returns the tensors in the order they were written.
  const auto gcpl = h5::Plist(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  const auto group = h5::Group(H5Gcreate2(file, group_name, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
  if (!group.valid())
    throw InputError(path, std::string("group /") + group_name, "cannot create: " + hdf5_reason());
  // Every byte is written right away, so HDF5 need not pre-fill the storage.
  const auto dcpl = h5::Plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  for (const TensorRecord& record : records) {
    const std::string link = escape_name(record.name);
    const std::string where = std::string("dataset /") + group_name + "/" + link;
    h5::Space space;
    if (record.shape.empty()) {
      space = h5::Space(H5Screate(H5S_SCALAR));
    } else {
      const std::vector<hsize_t> dims(record.shape.begin(), record.shape.end());
      space = h5::Space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    }
    const auto dataset = h5::Dataset(H5Dcreate2(group.get(), link.c_str(), file_type(record.dtype),
                                                space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!dataset.valid()) throw InputError(path, where, "cannot create: " + hdf5_reason());
    if (!record.data.empty() && H5Dwrite(dataset.get(), memory_type(record.dtype), H5S_ALL, H5S_ALL,
                                         H5P_DEFAULT, record.data.data()) < 0)
      throw InputError(path, where, "cannot write: " + hdf5_reason());
  }
}

void write_hdf5(const std::string& path, const std::string& temporary, const Checkpoint& checkpoint) {
  const auto fapl = checkpoint_file_access(true);
  auto file = h5::File(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!file.valid()) throw InputError(path, "cannot create checkpoint file: " + hdf5_reason());
  const hid_t root = file.get();
  const bool attributes_ok = write_string_attribute(root, "format", kFormat) &&
                             write_int32_attribute(root, "format_version", checkpoint.format_version) &&
                             write_int64_attribute(root, "step", checkpoint.step) &&
                             write_string_attribute(root, "data_position", checkpoint.data_position_json) &&
                             write_string_attribute(root, "config", checkpoint.config_json) &&
                             write_string_attribute(root, "program_version", checkpoint.program_version);
  if (!attributes_ok) throw InputError(path, "attributes", "cannot write: " + hdf5_reason());
  write_group(path, root, kGroups[0], checkpoint.parameters);
  write_group(path, root, kGroups[1], checkpoint.optimizer);
  write_group(path, root, kGroups[2], checkpoint.ema);
  write_group(path, root, kGroups[3], checkpoint.rng);
  if (H5Fflush(root, H5F_SCOPE_GLOBAL) < 0 || !file.close())
    throw InputError(path, "cannot finish checkpoint file: " + hdf5_reason());
}

std::vector<TensorRecord> read_group(const std::string& path, hid_t file, const char* group_name) {
  const std::string group_record = std::string("group /") + group_name;
  const htri_t exists = H5Lexists(file, group_name, H5P_DEFAULT);
  if (exists <= 0) throw InputError(path, group_record, "missing");
  const auto group = h5::Group(H5Gopen2(file, group_name, H5P_DEFAULT));
  if (!group.valid()) throw InputError(path, group_record, "is not a group");
  H5G_info_t info;
  if (H5Gget_info(group.get(), &info) < 0)
    throw InputError(path, group_record, "cannot be read: " + hdf5_reason());
  // Files we write index creation order; a file made elsewhere (h5py) may only have the name index.
  const auto gcpl = h5::Plist(H5Gget_create_plist(group.get()));
  unsigned order_flags = 0;
  H5Pget_link_creation_order(gcpl.get(), &order_flags);
  const H5_index_t index = (order_flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;

  std::vector<TensorRecord> records;
  records.reserve(info.nlinks);
  std::vector<char> name_buffer(256);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t length = H5Lget_name_by_idx(group.get(), ".", index, H5_ITER_INC, i, name_buffer.data(),
                                        name_buffer.size(), H5P_DEFAULT);
    if (length >= static_cast<ssize_t>(name_buffer.size())) {
      name_buffer.resize(static_cast<std::size_t>(length) + 1);
      length = H5Lget_name_by_idx(group.get(), ".", index, H5_ITER_INC, i, name_buffer.data(),
                                  name_buffer.size(), H5P_DEFAULT);
    }
    if (length < 0) throw InputError(path, group_record, "cannot list its members: " + hdf5_reason());
    const std::string link(name_buffer.data(), static_cast<std::size_t>(length));
    const std::string where = std::string("dataset /") + group_name + "/" + link;

    TensorRecord record;
    const std::optional<std::string> name = unescape_name(link);
    if (!name) throw InputError(path, where, "name has a malformed %-escape");
    record.name = *name;
    const auto dataset = h5::Dataset(H5Dopen2(group.get(), link.c_str(), H5P_DEFAULT));
    if (!dataset.valid()) throw InputError(path, where, "is not a dataset");
    const auto type = h5::Type(H5Dget_type(dataset.get()));
    const std::optional<DType> dtype = dtype_of(type.get());
    if (!dtype)
      throw InputError(path, where,
                       "has an unsupported type (checkpoints hold float32, float64, int64, int32, uint8)");
    record.dtype = *dtype;
    const auto space = h5::Space(H5Dget_space(dataset.get()));
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_SIMPLE) {
      const int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      record.shape.assign(dims.begin(), dims.end());
    } else if (space_class != H5S_SCALAR) {
      throw InputError(path, where, "has no dataspace (null dataspace): not a tensor");
    }
    const std::optional<std::uint64_t> bytes = tensor_bytes(record.shape, record.dtype);
    if (!bytes) throw InputError(path, where, "shape " + shape_text(record.shape) + " is too large");
    // A contiguous dataset must store exactly its shape's bytes; anything else is a damaged file, and
    // checking first avoids allocating whatever a corrupt header claims.
    const auto dcpl = h5::Plist(H5Dget_create_plist(dataset.get()));
    const hsize_t stored = H5Dget_storage_size(dataset.get());
    if (H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS && *bytes > 0 && stored != *bytes)
      throw InputError(path, where,
                       "holds " + std::to_string(stored) + " bytes but shape " + shape_text(record.shape) +
                           " " + to_string(record.dtype) + " needs " + std::to_string(*bytes));
    record.data.resize(static_cast<std::size_t>(*bytes));
    if (*bytes > 0 && H5Dread(dataset.get(), memory_type(record.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              record.data.data()) < 0)
      throw InputError(path, where, "cannot read data: " + hdf5_reason());
    records.push_back(std::move(record));
  }
  return records;
}

template <class T>
T required_attribute(const std::string& path, hid_t file, const char* name,
                     std::optional<T> (*reader)(hid_t, const char*)) {
  const std::string record = std::string("attribute ") + name;
  std::optional<T> value;
  try {
    value = reader(file, name);
  } catch (const std::runtime_error& e) {
    throw InputError(path, record, e.what());
  }
  if (!value) throw InputError(path, record, "missing");
  return *value;
}

/// Opens a checkpoint and checks its format attributes; shared by read_checkpoint and latest().
h5::File open_checkpoint(const std::string& path, int* format_version) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "checkpoint file not found");
  if (fs::is_directory(path, ec)) throw InputError(path, "is a folder, not a checkpoint file");
  const auto fapl = checkpoint_file_access(false);
  auto file = h5::File(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file.valid()) {
    const std::string reason = hdf5_reason();
    throw InputError(path, "not a readable HDF5 file (truncated, corrupt or another format)" +
                               (reason.empty() ? std::string() : ": " + reason));
  }
  std::optional<std::string> format;
  try {
    format = read_string_attribute(file.get(), "format");
  } catch (const std::runtime_error& e) {
    throw InputError(path, "attribute format", e.what());
  }
  if (!format) throw InputError(path, "attribute format", "missing: not a hemeplm checkpoint");
  if (*format != kFormat)
    throw InputError(path, "attribute format", "is '" + *format + "', expected '" + kFormat + "'");
  const std::int64_t version =
      required_attribute<std::int64_t>(path, file.get(), "format_version", read_integer_attribute);
  if (version > Checkpoint::kFormatVersion)
    throw InputError(path, "attribute format_version",
                     std::to_string(version) + " is newer than this hemeplm reads (" +
                         std::to_string(Checkpoint::kFormatVersion) + "): use a newer hemeplm");
  if (version < 1)
    throw InputError(path, "attribute format_version", std::to_string(version) + " is not valid");
  *format_version = static_cast<int>(version);
  return file;
}

}  // namespace

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt64:
      return "int64";
    case DType::kInt32:
      return "int32";
    case DType::kUInt8:
      return "uint8";
  }
  return "unknown";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat64:
      return 8;
    case DType::kInt64:
      return 8;
    case DType::kInt32:
      return 4;
    case DType::kUInt8:
      return 1;
  }
  return 0;
}

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  validate(checkpoint);
  TemporaryPath temporary(path);
  {
    const QuietErrors quiet;
    write_hdf5(path, temporary.path(), checkpoint);
  }
  // HDF5 closed the file but does not fsync: the data must be on disk before the rename makes it the
  // checkpoint, or a power loss could leave an empty file under the final name.
  if (!fsync_path(temporary.path(), 0))
    throw InputError(path, std::string("cannot flush checkpoint to disk: ") + std::strerror(errno));
  ::chmod(temporary.path().c_str(), 0644);  // mkstemp creates 0600
  if (std::rename(temporary.path().c_str(), path.c_str()) != 0)
    throw InputError(path, std::string("cannot replace checkpoint file: ") + std::strerror(errno));
  temporary.release();
  // Makes the rename itself durable; some file systems refuse fsync on folders, which is harmless.
  fsync_path(temporary.folder(), O_DIRECTORY);
}

Checkpoint read_checkpoint(const std::string& path) {
  const QuietErrors quiet;
  Checkpoint checkpoint;
  const auto file = open_checkpoint(path, &checkpoint.format_version);
  const hid_t root = file.get();
  checkpoint.step = required_attribute<std::int64_t>(path, root, "step", read_integer_attribute);
  checkpoint.data_position_json =
      required_attribute<std::string>(path, root, "data_position", read_string_attribute);
  checkpoint.config_json = required_attribute<std::string>(path, root, "config", read_string_attribute);
  checkpoint.program_version =
      required_attribute<std::string>(path, root, "program_version", read_string_attribute);
  checkpoint.parameters = read_group(path, root, kGroups[0]);
  checkpoint.optimizer = read_group(path, root, kGroups[1]);
  checkpoint.ema = read_group(path, root, kGroups[2]);
  checkpoint.rng = read_group(path, root, kGroups[3]);
  return checkpoint;
}

void check_tensors(const std::string& path, const std::vector<TensorRecord>& found,
                   const std::vector<TensorSpec>& expected) {
  constexpr std::size_t kListed = 5;
  std::map<std::string, const TensorRecord*> by_name;
  for (const TensorRecord& record : found) by_name.emplace(record.name, &record);
  std::set<std::string> expected_names;
  std::vector<std::string> missing, unexpected, different;
  for (const TensorSpec& spec : expected) {
    expected_names.insert(spec.name);
    const auto it = by_name.find(spec.name);
    if (it == by_name.end()) {
      missing.push_back("missing '" + spec.name + "'");
    } else if (it->second->shape != spec.shape || it->second->dtype != spec.dtype) {
      different.push_back("'" + spec.name + "' is " + shape_text(it->second->shape) + " " +
                          to_string(it->second->dtype) + ", model expects " + shape_text(spec.shape) + " " +
                          to_string(spec.dtype));
    }
  }
  for (const TensorRecord& record : found)
    if (expected_names.count(record.name) == 0) unexpected.push_back("unexpected '" + record.name + "'");
  const std::size_t total = missing.size() + unexpected.size() + different.size();
  if (total == 0) return;
  // Missing and unexpected names side by side make a renamed module easy to spot.
  std::vector<std::string> problems = missing;
  problems.insert(problems.end(), unexpected.begin(), unexpected.end());
  problems.insert(problems.end(), different.begin(), different.end());
  std::ostringstream message;
  message << "checkpoint does not match the model (" << missing.size() << " missing, " << unexpected.size()
          << " unexpected, " << different.size() << " with another shape or dtype): ";
  for (std::size_t i = 0; i < std::min(total, kListed); ++i) message << (i ? "; " : "") << problems[i];
  if (total > kListed) message << "; and " << total - kListed << " more";
  throw InputError(path, "tensors", one_line(message.str()));
}

bool checkpoint_detail::opens_as_checkpoint(const std::string& path) {
  const QuietErrors quiet;
  try {
    int version = 0;
    const auto file = open_checkpoint(path, &version);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace hemeplm::parallel_io
