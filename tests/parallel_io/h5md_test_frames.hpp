// Deterministic frames for the H5MD tests: every value is a function of (frame, global atom), so each
// rank can produce its own slice and the readers can check any value without storing the originals.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::test {

/// The example receptor (401 atoms, read with gemmi), made periodic.
inline System h5md_test_system() {
  System system = load_system({source_file("inputs/example/complex.pdb"), {}});
  Box box;
  box.vectors = {Vec3{60, 0, 0}, Vec3{0, 61, 0}, Vec3{0, 0, 62}};
  system.box = box;
  return system;
}

inline Vec3 test_position(const System& system, std::int64_t frame, int atom) {
  const double f = static_cast<double>(frame);
  return system.positions[atom] + Vec3{0.01 * f * std::sin(atom), 0.01 * f * std::cos(atom), 0.005 * f};
}
inline Vec3 test_velocity(std::int64_t frame, int atom) {
  return {0.1 * frame + 1e-3 * atom, -1e-3 * atom, 1.0};
}
inline Vec3 test_force(std::int64_t frame, int atom) {
  return {0.5 * atom, 0.25 * frame, -1.5};
}
inline Box test_box(std::int64_t frame) {
  Box box;
  box.vectors = {Vec3{60 + 0.01 * frame, 0, 0}, Vec3{0, 61, 0}, Vec3{0, 0, 62}};
  return box;
}
inline std::int64_t test_step(std::int64_t frame) {
  return 100 * frame;
}
inline double test_time(std::int64_t frame) {
  return 0.2 * frame;
}
inline double test_energy(std::int64_t frame) {
  return -1000.0 - 1.5 * frame;
}

inline parallel_io::H5mdWriterOptions test_writer_options(int chunk_frames) {
  parallel_io::H5mdWriterOptions options;
  options.chunk_frames = chunk_frames;
  options.flush_interval_s = 0;  // every chunk reaches the disk: what the crash tests rely on
  options.velocities = true;
  options.forces = true;
  options.observables = {"potential_energy", "temperature"};
  options.config_json = R"({"chunk_frames":)" + std::to_string(chunk_frames) + "}";
  options.provenance_json = R"({"program":"h5md test"})";
  return options;
}

/// Appends frames [first, first + count) of the atoms `owned` (positions, velocities, forces, box,
/// energies) to `writer`.
inline void append_test_frames(parallel_io::H5mdWriter& writer, const System& system,
                               parallel_io::AtomRange owned, std::int64_t first, std::int64_t count) {
  std::vector<Vec3> positions(owned.count), velocities(owned.count), forces(owned.count);
  for (std::int64_t f = first; f < first + count; ++f) {
    for (int k = 0; k < owned.count; ++k) {
      positions[k] = test_position(system, f, owned.first + k);
      velocities[k] = test_velocity(f, owned.first + k);
      forces[k] = test_force(f, owned.first + k);
    }
    const Box box = test_box(f);
    const std::vector<double> observables{test_energy(f), 300.0 + f};
    parallel_io::FrameView view;
    view.step = test_step(f);
    view.time_ps = test_time(f);
    view.positions = positions;
    view.velocities = velocities;
    view.forces = forces;
    view.box = &box;
    view.observables = observables;
    writer.append(view);
  }
}

}  // namespace hemeplm::test
