// A whole trajectory in memory for evaluation: the topology stored in a hemeplm H5MD file (dataset,
// reference MD or generated trajectory, docs/h5md-layout.md), every frame's positions, and the energy
// and force labels when the file has them. Evaluation sets are small (thousands of frames of at most
// tens of thousands of atoms), so reading everything once keeps every metric a plain loop over arrays.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

struct Trajectory {
  std::string path;  ///< file it was read from ("a.h5md+b.h5md" after concatenate)
  System system;     ///< topology; positions = frame 0
  std::int64_t frame_count = 0;
  std::vector<Vec3> positions;   ///< frame-major [frame_count * atom_count], Å
  std::vector<double> time_ps;   ///< [frame_count]
  std::vector<double> energies;  ///< [frame_count] potential energy, kJ/mol; empty when the file has none
  std::vector<Vec3> forces;      ///< frame-major like positions, kJ/mol/Å; empty when the file has none

  int atom_count() const { return system.atom_count(); }
  Span<const Vec3> frame(std::int64_t f) const {
    return {positions.data() + f * atom_count(), static_cast<std::size_t>(atom_count())};
  }
  bool has_energies() const { return !energies.empty(); }
  bool has_forces() const { return !forces.empty(); }
};

/// Reads frames [first, first + count) (count < 0: to the end) of a hemeplm H5MD file. InputError
/// naming the file when it has no hemeplm topology, no frames, or the range is outside it.
Trajectory read_trajectory(const std::string& path, std::int64_t first = 0, std::int64_t count = -1);

/// Throws InputError naming both files and the first atom whose element or name differs (or the two
/// atom counts) unless `a` and `b` describe the same atoms in the same order.
void require_same_atoms(const Trajectory& a, const Trajectory& b);

/// Frames of several trajectories of the same system, in order (labels kept only where every part has
/// them). InputError (require_same_atoms) on a topology mismatch.
Trajectory concatenate(const std::vector<Trajectory>& parts);

/// Frames [first, first + count) of `t` as a new trajectory.
Trajectory slice(const Trajectory& t, std::int64_t first, std::int64_t count);

}  // namespace hemeplm::evaluate
