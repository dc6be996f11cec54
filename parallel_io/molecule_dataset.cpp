// A molecule with its property labels through the regular H5mdWriter: the properties are observables
// named "properties/<name>" with explicit units, so they share step/time with the positions and every
// H5MD reader sees ordinary observable elements.
#include "hemeplm/parallel_io/molecule_dataset.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {
namespace {

/// Removes the temporary file unless it was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  ~TemporaryFile() {
    if (!committed_) std::remove(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }
  void commit_to(const std::string& target) {
    if (std::rename(path_.c_str(), target.c_str()) != 0)
      throw InputError(target, "cannot move the finished dataset into place");
    committed_ = true;
  }

 private:
  std::string path_;
  bool committed_ = false;
};

}  // namespace

void write_molecule_dataset(const std::string& path, const System& system,
                            const std::vector<MoleculeProperty>& properties,
                            const MoleculeDatasetInfo& info) {
  H5mdWriterOptions options;
  options.chunk_frames = 1;
  options.flush_interval_s = 1e9;  // one frame: close() flushes
  options.config_json = info.config_json;
  options.provenance_json = info.provenance_json;
  std::vector<double> values;
  for (const MoleculeProperty& p : properties) {
    options.observables.push_back(property_observable(p.name));
    options.observable_units.push_back(p.unit);
    values.push_back(p.value);
  }
  const std::filesystem::path target(path);
  // The pid keeps ranks (processes) writing into one folder apart.
  TemporaryFile temporary(
      (target.parent_path() / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid())))
          .string());
  {
    H5mdWriter writer(MPI_COMM_SELF, temporary.path(), system, AtomRange{0, system.atom_count()}, options);
    writer.begin_trajectory(info.source, 0.0);
    FrameView frame;
    frame.positions = system.positions;
    frame.box = system.box ? &*system.box : nullptr;
    frame.observables = values;
    writer.append(frame);
    writer.close();
  }
  temporary.commit_to(path);
}

}  // namespace hemeplm::parallel_io
