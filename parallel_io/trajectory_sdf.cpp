// SDF (and MOL2) conformer sets as a trajectory: several records of ONE molecule, the same atoms in
// the same order, each record one frame. Records are read and checked by core (read_conformer_set,
// RDKit), so atoms, hydrogens and validation are those of ligand files everywhere else. Conformers have no
// time axis: every frame has time 0 and step = record index (0-based); SD data items (energies) are ignored.
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

class SdfConformerSource final : public TrajectorySource {
 public:
  explicit SdfConformerSource(const std::string& path) : path_(path), records_(read_conformer_set(path)) {}

  const std::string& path() const override { return path_; }
  int atom_count() const override { return static_cast<int>(records_.front().atomic_numbers.size()); }
  std::string description() const override {
    return "conformer set (" + std::to_string(records_.size()) +
           " records of one molecule, Å; no time axis: time 0, step = record index; SD data ignored)";
  }

  bool next(TrajectoryFrame& frame) override {
    if (next_ >= records_.size()) return false;
    frame.step = static_cast<std::int64_t>(next_);
    frame.time_ps = 0.0;
    frame.positions = records_[next_].positions;
    frame.box.reset();
    frame.velocities.clear();
    frame.forces.clear();
    frame.potential_energy.reset();
    ++next_;
    return true;
  }

 private:
  std::string path_;
  std::vector<LigandConformer> records_;
  std::size_t next_ = 0;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_conformers(const std::string& path) {
  return std::make_unique<SdfConformerSource>(path);
}

}  // namespace hemeplm::parallel_io
