// H5MD (hemeplm's own files and other MDAnalysis-compatible ones) as a TrajectorySource, over
// H5mdReader, which already converts to Å, ps, kJ/mol. Frames are read in blocks so that a long
// trajectory costs a few large HDF5 reads instead of one small read per frame and dataset.
#include <algorithm>

#include "hemeplm/parallel_io/h5md.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr std::int64_t kBlockFrames = 64;

class H5mdSource final : public TrajectorySource {
 public:
  explicit H5mdSource(const std::string& path)
      : reader_(path),
        atoms_(reader_.atom_count()),
        frames_(reader_.frame_count()),
        steps_(reader_.steps()),
        times_(reader_.times_ps()) {
    const auto names = reader_.observable_names();
    has_energy_ = std::find(names.begin(), names.end(), "potential_energy") != names.end();
  }

  const std::string& path() const override { return reader_.path(); }
  int atom_count() const override { return atoms_; }
  std::string description() const override { return "H5MD (units from the file's unit attributes -> Å, ps)"; }

  bool next(TrajectoryFrame& frame) override {
    if (frame_ == frames_) return false;
    if (frame_ == block_first_ + block_count_) load_block();
    const std::size_t offset = static_cast<std::size_t>(frame_ - block_first_) * atoms_;
    const auto slice = [&](const std::vector<Vec3>& block, std::vector<Vec3>& out) {
      if (block.empty()) return out.clear();
      out.assign(block.begin() + offset, block.begin() + offset + atoms_);
    };
    slice(positions_, frame.positions);
    slice(velocities_, frame.velocities);
    slice(forces_, frame.forces);
    frame.step = frame_ < static_cast<std::int64_t>(steps_.size()) ? steps_[frame_] : frame_;
    frame.time_ps = frame_ < static_cast<std::int64_t>(times_.size()) ? times_[frame_] : 0.0;
    frame.box = reader_.box(frame_);
    frame.potential_energy.reset();
    if (has_energy_) frame.potential_energy = energies_[frame_ - block_first_];
    ++frame_;
    return true;
  }

 private:
  void load_block() {
    block_first_ = frame_;
    block_count_ = std::min(kBlockFrames, frames_ - frame_);
    const std::size_t values = static_cast<std::size_t>(block_count_) * atoms_;
    const AtomRange all{0, atoms_};
    positions_.resize(values);
    reader_.read_positions(block_first_, block_count_, all, positions_);
    velocities_.resize(reader_.has_velocities() ? values : 0);
    if (!velocities_.empty()) reader_.read_velocities(block_first_, block_count_, all, velocities_);
    forces_.resize(reader_.has_forces() ? values : 0);
    if (!forces_.empty()) reader_.read_forces(block_first_, block_count_, all, forces_);
    if (has_energy_) energies_ = reader_.read_observable("potential_energy", block_first_, block_count_);
  }

  H5mdReader reader_;
  int atoms_ = 0;
  std::int64_t frames_ = 0, frame_ = 0, block_first_ = 0, block_count_ = 0;
  std::vector<std::int64_t> steps_;
  std::vector<double> times_;
  bool has_energy_ = false;
  std::vector<Vec3> positions_, velocities_, forces_;
  std::vector<double> energies_;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_h5md(const std::string& path) {
  return std::make_unique<H5mdSource>(path);
}

}  // namespace hemeplm::parallel_io
