// Training checkpoints in HDF5: named raw tensors (model parameters, optimizer state, EMA weights),
// RNG states, step, data-loader position, configuration and versions. Written atomically (temporary
// file, fsync, rename); loading validates names, shapes and dtypes and never executes anything from the
// file. The torch-facing adapter lives in the training layer; this layer handles bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hemeplm::parallel_io {

enum class DType { kFloat32, kFloat64, kInt64, kInt32, kUInt8 };
const char* to_string(DType dtype);
std::size_t dtype_size(DType dtype);

struct TensorRecord {
  std::string name;  ///< module-tree name, e.g. "energy_model.backbone.layer0.q_proj.weight"
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> data;  ///< row-major, size = product(shape) * dtype_size(dtype)
};

struct Checkpoint {
  static constexpr int kFormatVersion = 1;
  std::vector<TensorRecord> parameters;  ///< /parameters/<name>
  std::vector<TensorRecord> optimizer;   ///< /optimizer/<name> (e.g. "exp_avg/<param>", "step")
  std::vector<TensorRecord> ema;         ///< /ema/<name>
  std::vector<TensorRecord> rng;         ///< /rng/<name> (generator states as bytes)
  std::int64_t step = 0;
  std::string data_position_json = "{}";  ///< data-loader position (epoch, index, seed, ...)
  std::string config_json = "{}";
  std::string program_version;
  int format_version = kFormatVersion;
};

/// Writes atomically: `path` is either the old file or the complete new one, never a partial one
/// (temporary ".<name>.tmp.XXXXXX" beside it, H5Fflush + close, fsync, rename, fsync of the folder).
/// UsageError for records that are inconsistent (data size != shape, duplicate or empty names);
/// InputError naming `path` when the folder is not writable or the disk fills. On failure the old
/// file is untouched and the temporary file is removed.
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Reads a checkpoint; InputError (file, dataset, problem) on anything malformed or of another format.
Checkpoint read_checkpoint(const std::string& path);

/// What a model expects of a checkpoint's tensors.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
};

/// Throws InputError listing every missing, unexpected, mis-shaped or mis-typed tensor (all at once).
void check_tensors(const std::string& path, const std::vector<TensorRecord>& found,
                   const std::vector<TensorSpec>& expected);

/// Checkpoints in one folder named <prefix>-<step, 9 digits>.h5, keeping the newest `keep` (>= 1).
/// One writer per folder and prefix: save() also removes temporary files left by a killed writer.
class CheckpointDirectory {
 public:
  CheckpointDirectory(std::string folder, std::string prefix = "checkpoint", int keep = 3);
  /// Writes the checkpoint for its step (creating the folder), then removes the oldest by step beyond
  /// `keep`; the file just written is always kept, even if files of later steps exist (a run restarted
  /// from an older checkpoint: latest() still picks the highest step). Returns the path.
  std::string save(const Checkpoint& checkpoint) const;
  /// Path of the newest checkpoint (highest step) that opens as HDF5 with the right format attribute,
  /// or empty when there is none. Temporary files and unreadable files are skipped.
  std::string latest() const;

 private:
  std::string folder_, prefix_;
  int keep_;
};

}  // namespace hemeplm::parallel_io
