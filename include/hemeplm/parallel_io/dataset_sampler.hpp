// Training samples drawn from an H5MD dataset: (trajectory, window of T frames, fragment) triples,
// sharded over ranks so that every rank draws different samples, deterministic for a seed and rank
// count, and resumable from a recorded position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/core/vec3.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {

struct WindowSample {
  int trajectory = 0;
  std::int64_t first_frame = 0;  ///< global frame index of the window's first frame
  int fragment = 0;              ///< index into the fragment list given to the sampler (0 when none)
};

/// Deterministic, rank-sharded, epoch-based sampler. An epoch is a permutation (seeded by seed and
/// epoch) of every (trajectory, window start, fragment) triple; rank r takes every ranks-th element
/// starting at r, so ranks never draw the same sample within an epoch.
class ShardedWindowSampler {
 public:
  ShardedWindowSampler(std::vector<TrajectoryInfo> trajectories, int window_frames, int window_stride,
                       int fragment_count, std::uint64_t seed, int rank, int ranks);
  WindowSample next();
  std::int64_t samples_per_epoch() const;   ///< per rank
  /// Position as JSON {"epoch":..,"index":..,"seed":..,"rank":..,"ranks":..}; restore() checks it matches.
  std::string position_json() const;
  void restore(const std::string& position_json);

 private:
  std::vector<TrajectoryInfo> trajectories_;
  int window_frames_, window_stride_, fragment_count_;
  std::uint64_t seed_;
  int rank_, ranks_;
  std::int64_t epoch_ = 0, index_ = 0;
  std::vector<std::int64_t> window_starts_;  ///< flattened windows (global first frame)
  std::vector<int> window_trajectory_;
  std::vector<std::int64_t> order_;           ///< current epoch's permutation (this rank's share)
  void shuffle_epoch();
};

}  // namespace hemeplm::parallel_io
