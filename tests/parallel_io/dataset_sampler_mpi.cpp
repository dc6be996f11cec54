// The sharded sampler across real MPI ranks (run by ctest with 2 and 3 ranks): within an epoch the
// ranks draw disjoint samples whose union is every sample the epoch keeps, and each rank's stream is
// the same as a single process computes for that rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <array>
#include <set>

#include "hemeplm/parallel_io/dataset_sampler.hpp"

namespace hemeplm::parallel_io {
namespace {

/// Trajectories of 40 and 26 frames: with 4-frame windows at stride 2, 19 + 12 windows, times 3
/// fragments = 93 samples per epoch before the tail that does not divide among the ranks.
std::vector<TrajectoryInfo> trajectories() {
  return {{0, 40, "a.xtc", 1.0}, {40, 26, "b.xtc", 1.0}};
}
constexpr int kSamplesPerEpoch = (19 + 12) * 3;

TEST(ShardedWindowSamplerMpi, RanksDrawDisjointSamplesCoveringTheEpoch) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  ShardedWindowSampler sampler(trajectories(), 4, 2, 3, 7, rank, ranks);
  const std::int64_t per_rank = sampler.samples_per_epoch();
  EXPECT_EQ(per_rank, kSamplesPerEpoch / ranks);

  std::vector<long long> mine;  // (trajectory, first frame, fragment) triples, flattened
  for (std::int64_t i = 0; i < per_rank; ++i) {
    const WindowSample s = sampler.next();
    mine.insert(mine.end(), {s.trajectory, s.first_frame, s.fragment});
  }
  std::vector<long long> all(mine.size() * static_cast<std::size_t>(ranks));
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_LONG_LONG, all.data(),
                static_cast<int>(mine.size()), MPI_LONG_LONG, MPI_COMM_WORLD);
  std::set<std::array<long long, 3>> distinct;
  for (std::size_t k = 0; k + 2 < all.size(); k += 3) distinct.insert({all[k], all[k + 1], all[k + 2]});
  EXPECT_EQ(distinct.size(), all.size() / 3) << "two ranks drew the same sample";
  EXPECT_EQ(static_cast<long long>(distinct.size()), per_rank * ranks);
  for (const auto& s : distinct) {
    const TrajectoryInfo t = trajectories()[static_cast<std::size_t>(s[0])];
    EXPECT_GE(s[1], t.first_frame);
    EXPECT_LE(s[1] + 4, t.first_frame + t.frame_count) << "window crosses a trajectory boundary";
  }

  // The same rank's stream, computed in one process, is what this rank drew.
  ShardedWindowSampler replay(trajectories(), 4, 2, 3, 7, rank, ranks);
  for (std::size_t k = 0; k < mine.size(); k += 3) {
    const WindowSample s = replay.next();
    const std::array<long long, 3> drawn{mine[k], mine[k + 1], mine[k + 2]};
    const std::array<long long, 3> replayed{s.trajectory, s.first_frame, s.fragment};
    EXPECT_EQ(drawn, replayed);
  }
}

}  // namespace
}  // namespace hemeplm::parallel_io
