// Extended XYZ as a trajectory (rMD17, 3BPA and other ML force-field sets): positions in Å, the
// "energy" key and "forces" column in ASE units (eV, eV/Å), converted to kJ/mol and kJ/mol/Å. The
// files carry no time, so time = frame index (ps) and step = frame index.
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr double kKjPerMolPerEv = 96.485332;  // 1 eV in kJ/mol (CODATA 2018: 96.4853321233)

class ExtxyzSource final : public TrajectorySource {
 public:
  explicit ExtxyzSource(const std::string& path) : reader_(path) {
    // Frame 0 fixes the atom count; keep it for the first next().
    reader_.next(pending_);
    has_pending_ = true;
  }

  const std::string& path() const override { return reader_.path(); }
  int atom_count() const override { return static_cast<int>(pending_.species.size()); }
  std::string description() const override {
    return "extended XYZ (Å; energy eV -> kJ/mol, forces eV/Å -> kJ/mol/Å; time = frame index)";
  }

  bool next(TrajectoryFrame& frame) override {
    if (has_pending_) {
      has_pending_ = false;
      convert(pending_, frame, 0);
      return true;
    }
    const long index = reader_.frames_read();
    if (!reader_.next(scratch_)) return false;
    convert(scratch_, frame, index);
    return true;
  }

 private:
  static void convert(const ExtxyzFrame& in, TrajectoryFrame& out, long index) {
    out.step = index;
    out.time_ps = static_cast<double>(index);
    out.positions = in.positions;
    out.box = in.box;
    out.velocities.clear();
    out.forces.resize(in.forces.size());
    for (std::size_t i = 0; i < in.forces.size(); ++i) out.forces[i] = in.forces[i] * kKjPerMolPerEv;
    out.potential_energy.reset();
    if (in.energy) out.potential_energy = *in.energy * kKjPerMolPerEv;
  }

  ExtxyzReader reader_;
  ExtxyzFrame pending_, scratch_;
  bool has_pending_ = false;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_extxyz(const std::string& path) {
  return std::make_unique<ExtxyzSource>(path);
}

}  // namespace hemeplm::parallel_io
