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
///
/// Windows start at frames 0, stride, 2*stride, ... of each trajectory and end inside it (a trajectory
/// shorter than window_frames contributes none; no window at all, or fewer samples than ranks, is a
/// UsageError). The permutation is a Fisher-Yates shuffle driven by std::mt19937_64 seeded from
/// (seed, epoch) with its own unbiased integer draw, so it is identical on every platform. The epoch's
/// last (total mod ranks) elements are dropped, so every rank takes the same number of steps; the
/// dropped ones change every epoch. Memory: one int64 per sample while shuffling.
class ShardedWindowSampler {
 public:
  ShardedWindowSampler(std::vector<TrajectoryInfo> trajectories, int window_frames, int window_stride,
                       int fragment_count, std::uint64_t seed, int rank, int ranks);
  WindowSample next();
  std::int64_t samples_per_epoch() const;  ///< per rank
  std::int64_t epoch() const;              ///< epoch of the last sample drawn (0 before any)
  /// Position as JSON {"epoch":..,"index":..,"seed":..,"rank":..,"ranks":..,"window_frames":..,
  /// "window_stride":..,"fragment_count":..,"trajectories":"<fingerprint of the frame layout>"}.
  /// restore() throws UsageError naming the first field that differs from this sampler's; afterwards
  /// next() continues exactly where the recorded sampler stopped.
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
  std::vector<std::int64_t> order_;  ///< current epoch's permutation (this rank's share)
  void shuffle_epoch();
};

}  // namespace hemeplm::parallel_io
