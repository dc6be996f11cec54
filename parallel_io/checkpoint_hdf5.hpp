// Internal to checkpoint.cpp: a move-only owner of HDF5 identifiers, silencing of HDF5's error stack
// printing, typed attribute helpers and the escaping of tensor names into HDF5 link names. Kept apart
// from the H5MD code's handles so that checkpoints do not depend on another module's internals.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>

#include "hdf5_handles.hpp"

namespace hemeplm::parallel_io::checkpoint_detail {

// Owners of hid_t are the typed handles of hdf5_handles.hpp (h5::File, h5::Dataset, ...), shared with
// the H5MD code.

/// Turns off HDF5's printing of its error stack for the lifetime of the object (our own InputError
/// says what went wrong in one line) and restores the previous handler afterwards.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

/// The most specific message on HDF5's current error stack (e.g. "truncated file: eof = ..."), or an
/// empty string; used to say why a call failed.
std::string hdf5_reason();

/// File access properties for checkpoints: the 1.8 object format when writing (compact/dense link
/// storage, fast with 10,000s of tensors, readable by every HDF5 since 1.8), and file locks that are
/// used where the file system has them but ignored where it does not (Lustre or NFS mounted without
/// flock make HDF5 >= 1.10 fail with "unable to lock file" otherwise).
h5::Plist checkpoint_file_access(bool writing);

/// Memory type of a variable-length UTF-8 string.
h5::Type variable_string_type();

/// Scalar attributes on an object. The writers return false on failure; the readers return nullopt
/// when the attribute is absent and throw std::runtime_error (with a short reason) when it exists but
/// cannot be read as the requested kind.
bool write_string_attribute(hid_t object, const char* name, const std::string& value);
bool write_int64_attribute(hid_t object, const char* name, std::int64_t value);
bool write_int32_attribute(hid_t object, const char* name, int value);
std::optional<std::string> read_string_attribute(hid_t object, const char* name);
std::optional<std::int64_t> read_integer_attribute(hid_t object, const char* name);

/// Tensor names become single HDF5 link names: '%' -> "%25", '/' -> "%2F" and a name that is exactly
/// "." -> "%2E", so every name (module paths with '.', optimizer names with '/') maps to one dataset
/// in a flat group and back without ambiguity.
std::string escape_name(const std::string& name);
/// Inverse of escape_name; nullopt for a malformed escape.
std::optional<std::string> unescape_name(const std::string& link);

/// Whether `path` opens as HDF5 with this program's format attributes (defined in checkpoint.cpp,
/// used by CheckpointDirectory::latest() to skip damaged files without reading their tensors).
bool opens_as_checkpoint(const std::string& path);

}  // namespace hemeplm::parallel_io::checkpoint_detail
