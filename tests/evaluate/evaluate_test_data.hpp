// Trajectories for the evaluate tests: the alanine dipeptide topology from ../shared/data with frames
// made in memory, and H5MD files written through the real writer.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/evaluate/trajectory.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::test {

/// `frames` frames of `system`: its positions plus Gaussian noise of `sigma` Å per component, 1 ps apart.
inline evaluate::Trajectory noisy_trajectory(const System& system, std::int64_t frames, double sigma,
                                             std::uint64_t seed) {
  evaluate::Trajectory t;
  t.path = "noisy-" + std::to_string(seed);
  t.system = system;
  t.frame_count = frames;
  std::mt19937_64 random(seed);
  std::normal_distribution<double> gauss(0.0, sigma);
  for (std::int64_t f = 0; f < frames; ++f) {
    t.time_ps.push_back(static_cast<double>(f));
    for (const Vec3& x : system.positions)
      t.positions.push_back(x + Vec3{gauss(random), gauss(random), gauss(random)});
  }
  return t;
}

/// Writes `t` as a hemeplm H5MD file at `path` (positions and times; potential energies when present).
inline void write_h5md(const evaluate::Trajectory& t, const std::string& path) {
  parallel_io::H5mdWriterOptions options;
  if (t.has_energies()) options.observables = {"potential_energy"};
  parallel_io::H5mdWriter writer(MPI_COMM_SELF, path, t.system, {0, t.atom_count()}, options);
  for (std::int64_t f = 0; f < t.frame_count; ++f) {
    parallel_io::FrameView view;
    view.step = f;
    view.time_ps = t.time_ps[f];
    view.positions = t.frame(f);
    if (t.system.box) view.box = &*t.system.box;
    double energy = t.has_energies() ? t.energies[f] : 0.0;
    if (t.has_energies()) view.observables = {&energy, 1};
    writer.append(view);
  }
  writer.close();
}

}  // namespace hemeplm::test
