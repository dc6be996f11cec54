// ShardedWindowSampler: deterministic, disjoint across ranks, windows inside trajectories, reshuffled
// per epoch, resumable exactly from a recorded position.
#include "hemeplm/parallel_io/dataset_sampler.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <tuple>

#include "hemeplm/core/error.hpp"

namespace hemeplm::parallel_io {
namespace {

using Triple = std::tuple<int, std::int64_t, int>;

Triple triple(const WindowSample& s) {
  return {s.trajectory, s.first_frame, s.fragment};
}

/// Trajectories of 20, 15 and 3 frames: with 4-frame windows at stride 2 they hold 9 + 6 + 0 windows.
std::vector<TrajectoryInfo> three_trajectories() {
  return {{0, 20, "a.xtc", 1.0}, {20, 15, "b.xtc", 1.0}, {35, 3, "c.xtc", 1.0}};
}

ShardedWindowSampler make(int rank, int ranks, std::uint64_t seed = 42, int fragments = 3) {
  return ShardedWindowSampler(three_trajectories(), 4, 2, fragments, seed, rank, ranks);
}

std::vector<Triple> draw(ShardedWindowSampler& sampler, int count) {
  std::vector<Triple> out;
  for (int i = 0; i < count; ++i) out.push_back(triple(sampler.next()));
  return out;
}

std::string usage_error(const std::function<void()>& body) {
  try {
    body();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return {};
}

TEST(ShardedWindowSampler, IsDeterministic) {
  ShardedWindowSampler a = make(1, 3), b = make(1, 3);
  EXPECT_EQ(draw(a, 500), draw(b, 500));
  ShardedWindowSampler other_seed = make(1, 3, 43);
  ShardedWindowSampler c = make(1, 3);
  EXPECT_NE(draw(c, 15), draw(other_seed, 15));
}

TEST(ShardedWindowSampler, KnownSequenceIsTheSameOnEveryPlatform) {
  // Pins the generator, the seeding and the shuffle: a change here breaks resuming old runs.
  ShardedWindowSampler sampler = make(0, 1, 2024);
  const std::vector<Triple> first = draw(sampler, 6);
  const std::vector<Triple> pinned = {{1, 30, 1}, {0, 6, 0}, {1, 26, 2}, {0, 6, 2}, {0, 0, 2}, {1, 22, 2}};
  EXPECT_EQ(first, pinned);
}

TEST(ShardedWindowSampler, RanksShareAnEpochWithoutOverlap) {
  // 15 windows x 3 fragments = 45 samples: 3 ranks take 15 each and together every sample once.
  std::set<Triple> all;
  for (int rank = 0; rank < 3; ++rank) {
    ShardedWindowSampler sampler = make(rank, 3);
    EXPECT_EQ(sampler.samples_per_epoch(), 15);
    for (const Triple& t : draw(sampler, 15)) EXPECT_TRUE(all.insert(t).second) << "drawn twice";
  }
  EXPECT_EQ(all.size(), 45u);
  // 4 ranks: the epoch's last element is dropped; 44 distinct samples.
  std::set<Triple> most;
  for (int rank = 0; rank < 4; ++rank) {
    ShardedWindowSampler sampler = make(rank, 4);
    EXPECT_EQ(sampler.samples_per_epoch(), 11);
    for (const Triple& t : draw(sampler, 11)) EXPECT_TRUE(most.insert(t).second) << "drawn twice";
  }
  EXPECT_EQ(most.size(), 44u);
}

TEST(ShardedWindowSampler, WindowsStayInsideTheirTrajectory) {
  const std::vector<TrajectoryInfo> trajectories = three_trajectories();
  ShardedWindowSampler sampler = make(0, 1);
  std::set<std::int64_t> starts;
  for (int i = 0; i < 450; ++i) {
    const WindowSample s = sampler.next();
    const TrajectoryInfo& t = trajectories.at(static_cast<std::size_t>(s.trajectory));
    EXPECT_GE(s.first_frame, t.first_frame);
    EXPECT_LE(s.first_frame + 4, t.first_frame + t.frame_count);
    EXPECT_EQ((s.first_frame - t.first_frame) % 2, 0);
    EXPECT_NE(s.trajectory, 2) << "a 3-frame trajectory has no 4-frame window";
    EXPECT_GE(s.fragment, 0);
    EXPECT_LT(s.fragment, 3);
    starts.insert(s.first_frame);
  }
  EXPECT_EQ(starts.size(), 15u);
  EXPECT_EQ(*starts.rbegin(), 20 + 10);  // last window of b: frames 30..33 of 20..34
}

TEST(ShardedWindowSampler, EveryEpochIsANewPermutationOfTheSameSamples) {
  ShardedWindowSampler sampler = make(0, 1);
  const std::vector<Triple> epoch0 = draw(sampler, 45);
  EXPECT_EQ(sampler.epoch(), 0);
  const std::vector<Triple> epoch1 = draw(sampler, 45);
  EXPECT_EQ(sampler.epoch(), 1);
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(std::set<Triple>(epoch0.begin(), epoch0.end()), std::set<Triple>(epoch1.begin(), epoch1.end()));
  EXPECT_EQ(std::set<Triple>(epoch0.begin(), epoch0.end()).size(), 45u);
}

TEST(ShardedWindowSampler, RestoreContinuesExactlyWhereItStopped) {
  for (int rank = 0; rank < 2; ++rank) {
    ShardedWindowSampler reference = make(rank, 2);
    const std::vector<Triple> all = draw(reference, 137);
    ShardedWindowSampler first = make(rank, 2);
    draw(first, 37);
    const std::string position = first.position_json();
    ShardedWindowSampler resumed = make(rank, 2);
    resumed.restore(position);
    EXPECT_EQ(draw(resumed, 100), std::vector<Triple>(all.begin() + 37, all.end())) << position;
  }
  // At an epoch boundary (index == samples_per_epoch) too.
  ShardedWindowSampler reference = make(0, 1);
  const std::vector<Triple> all = draw(reference, 90);
  ShardedWindowSampler first = make(0, 1);
  draw(first, 45);
  ShardedWindowSampler resumed = make(0, 1);
  resumed.restore(first.position_json());
  EXPECT_EQ(draw(resumed, 45), std::vector<Triple>(all.begin() + 45, all.end()));
}

TEST(ShardedWindowSampler, RestoreRefusesAnotherSetup) {
  ShardedWindowSampler recorded = make(1, 3);
  draw(recorded, 5);
  const std::string position = recorded.position_json();
  EXPECT_NE(usage_error([&] { make(1, 3, 7).restore(position); }).find("seed"), std::string::npos);
  EXPECT_NE(usage_error([&] { make(1, 2).restore(position); }).find("ranks 3, this run has ranks 2"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { make(2, 3).restore(position); }).find("rank 1, this run has rank 2"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { make(1, 3, 42, 2).restore(position); }).find("fragment_count"),
            std::string::npos);
  std::vector<TrajectoryInfo> longer = three_trajectories();
  longer[1].frame_count = 16;
  ShardedWindowSampler other(longer, 4, 2, 3, 42, 1, 3);
  EXPECT_NE(usage_error([&] { other.restore(position); }).find("trajectories"), std::string::npos);
  EXPECT_NE(usage_error([&] { make(1, 3).restore("{not json"); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(usage_error([&] { make(1, 3).restore("{}"); }).find("lacks 'seed'"), std::string::npos);
}

TEST(ShardedWindowSampler, ImpossibleSetupsAreUsageErrors) {
  const std::vector<TrajectoryInfo> short_ones = {{0, 3, "a", 1}, {3, 2, "b", 1}};
  EXPECT_NE(
      usage_error([&] { ShardedWindowSampler(short_ones, 4, 1, 1, 0, 0, 1); }).find("no training window"),
      std::string::npos);
  EXPECT_THROW(ShardedWindowSampler({}, 4, 1, 1, 0, 0, 1), UsageError);
  EXPECT_THROW(ShardedWindowSampler(three_trajectories(), 0, 1, 1, 0, 0, 1), UsageError);
  EXPECT_THROW(ShardedWindowSampler(three_trajectories(), 4, 0, 1, 0, 0, 1), UsageError);
  EXPECT_THROW(ShardedWindowSampler(three_trajectories(), 4, 1, 0, 0, 0, 1), UsageError);
  EXPECT_THROW(ShardedWindowSampler(three_trajectories(), 4, 1, 1, 0, 2, 2), UsageError);
  const std::vector<TrajectoryInfo> one_window = {{0, 4, "a", 1}};
  EXPECT_NE(usage_error([&] { ShardedWindowSampler(one_window, 4, 1, 1, 0, 0, 2); }).find("for 2 ranks"),
            std::string::npos);
}

}  // namespace
}  // namespace hemeplm::parallel_io
