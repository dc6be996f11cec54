// The rolling sampler's window bookkeeping and the per-frame noise levels training draws for it; plus
// forward corruption with per-frame steps.
#include "hemeplm/diffusion/rolling.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"
#include "hemeplm/diffusion/loss.hpp"
#include "hemeplm/diffusion/sampling.hpp"
#include "hemeplm/diffusion/schedule.hpp"

namespace hemeplm::diffusion {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Follows every frame that enters the window: each must get the updates L-1, L-2, ..., 0 (L = m W) in this
// order, one per call, and leave at position 1 when finished; the first leaves after (W - 1) m warm-up
// calls + m, then one every m calls.
TEST(RollingWindow, EveryFrameGetsEachLevelOnceInOrderAndFramesFinishEveryMCallsAfterWarmUp) {
  for (std::int64_t m : {1, 2, 3})
    for (std::int64_t w : {1, 2, 3, 7}) {
      RollingWindow window(w, m);
      ASSERT_EQ(window.levels(), w * m);
      std::vector<std::int64_t> at(static_cast<std::size_t>(w));  // frame id at each position
      for (std::int64_t j = 0; j < w; ++j) at[static_cast<std::size_t>(j)] = j;
      std::int64_t next_id = w;
      std::vector<std::vector<std::int64_t>> updates(400);
      std::vector<std::int64_t> finished_at_call;
      for (std::int64_t call = 0; call < 80; ++call) {
        if (call < (w - 1) * m) {
          EXPECT_TRUE(window.warming_up()) << "W=" << w << " m=" << m << " call " << call;
        }
        for (std::int64_t j = 1; j <= w; ++j) {
          if (!window.warming_up()) {  // steady state: the staircase, position j within its m levels
            EXPECT_GE(window.level(j), (j - 1) * m);
            EXPECT_LT(window.level(j), j * m);
          }
          if (window.advances(j))
            updates[static_cast<std::size_t>(at[static_cast<std::size_t>(j - 1)])].push_back(window.level(j));
        }
        if (window.advance()) {
          finished_at_call.push_back(call);
          const auto id = at.front();
          std::vector<std::int64_t> expected;
          for (std::int64_t k = w * m - 1; k >= 0; --k) expected.push_back(k);
          EXPECT_EQ(updates[static_cast<std::size_t>(id)], expected)
              << "W=" << w << " m=" << m << " frame " << id;
          EXPECT_EQ(id, static_cast<std::int64_t>(finished_at_call.size()) - 1);  // in order
          window.shift();
          at.erase(at.begin());
          at.push_back(next_id++);
          EXPECT_EQ(window.remaining(w), w * m);
        } else {
          EXPECT_THROW(window.shift(), UsageError);
        }
      }
      ASSERT_FALSE(finished_at_call.empty());
      EXPECT_EQ(finished_at_call.front(), w * m - 1);
      for (std::size_t i = 1; i < finished_at_call.size(); ++i)
        EXPECT_EQ(finished_at_call[i], finished_at_call[i - 1] + m);
    }
  EXPECT_THROW(RollingWindow(0), UsageError);
  EXPECT_THROW(RollingWindow(3, 0), UsageError);
  EXPECT_THROW(RollingWindow(3).remaining(4), UsageError);
}

TEST(FrameSteps, KnownFramesCleanStaircasesMonotoneAndDeterministic) {
  const std::int64_t frames = 8, steps = 1000;
  auto known = torch::zeros({frames}, torch::kBool);
  known[0] = true;
  int staircases = 0, independent_like = 0;
  bool saw_steady_state = false;
  for (std::uint64_t key = 0; key < 400; ++key) {
    auto g1 = keyed_generator({7, key});
    auto g2 = keyed_generator({7, key});
    const auto s = draw_frame_steps(known, frames, steps, g1);
    EXPECT_TRUE(torch::equal(s, draw_frame_steps(known, frames, steps, g2)));
    ASSERT_EQ(s.sizes(), (std::vector<std::int64_t>{frames}));
    EXPECT_EQ(s[0].item<std::int64_t>(), 0);
    EXPECT_GE(s.min().item<std::int64_t>(), 0);
    EXPECT_LT(s.max().item<std::int64_t>(), steps);
    const auto free = s.narrow(0, 1, frames - 1);
    const bool monotone = (free.narrow(0, 1, frames - 2) >= free.narrow(0, 0, frames - 2)).all().item<bool>();
    if (monotone)
      ++staircases;
    else
      ++independent_like;
    // The W-level rolling window's steady state is round(i (S-1) / (W-1)); some staircases are close to it.
    const auto spacing = static_cast<double>(steps - 1) / static_cast<double>(frames - 2);
    if (monotone && free[0].item<std::int64_t>() < 20 && std::abs(free[1].item<double>() - spacing) < 30)
      saw_steady_state = true;
  }
  EXPECT_GT(staircases, 200);       // about 3/4 are staircases
  EXPECT_GT(independent_like, 40);  // about 1/4 independent (rarely monotone by chance)
  EXPECT_TRUE(saw_steady_state);
  // No known frames: all frames drawn; a single free frame gets a uniform step.
  auto g = keyed_generator({9});
  const auto all = draw_frame_steps(torch::Tensor(), 4, 50, g);
  EXPECT_EQ(all.size(0), 4);
  auto one = torch::ones({2}, torch::kBool);
  one[1] = false;
  const auto single = draw_frame_steps(one, 2, 50, g);
  EXPECT_EQ(single[0].item<std::int64_t>(), 0);
}

TEST(Corrupt, PerFrameStepsScaleEachFrameAndKeepEveryFrameCentroidFree) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const std::int64_t atoms = 7, frames = 4;
  auto gen = keyed_generator({3});
  const auto x0 = torch::randn({atoms, frames, 3}, gen, kF64) * 2.0 + 1.0;
  const auto noise = torch::randn({atoms, frames, 3}, gen, kF64);
  const auto graph = torch::zeros({atoms}, torch::kLong);
  auto free = torch::ones({atoms, frames}, torch::kBool);
  free.select(1, 0).fill_(false);
  const auto steps = torch::tensor({{0, 5, 40, 99}}, torch::kLong);
  for (bool kabsch : {false, true}) {
    const auto b = corrupt(schedule, x0, graph, 1, steps, free, noise, kabsch);
    const auto sa = schedule.per_atom(schedule.sqrt_alphas_cumprod(), steps, graph);
    const auto s1 = schedule.per_atom(schedule.sqrt_one_minus_alphas_cumprod(), steps, graph);
    ASSERT_EQ(sa.sizes(), (std::vector<std::int64_t>{atoms, frames, 1}));
    EXPECT_NEAR(sa[0][2][0].item<double>(), schedule.sqrt_alphas_cumprod()[40].item<double>(), 1e-15);
    const auto expected = sa * b.x0 + s1 * b.target;
    EXPECT_LT((b.x_t - expected).select(1, 2).abs().max().item<double>(), 1e-12);
    EXPECT_TRUE(torch::equal(b.x_t.select(1, 0), b.x0.select(1, 0)));
    for (std::int64_t f = 1; f < frames; ++f)
      EXPECT_LT(b.target.select(1, f).mean(0).abs().max().item<double>(), 1e-12) << "frame " << f;
  }
  // Uniform per-frame steps without alignment give the per-frame projection of the noise.
  const auto uniform =
      corrupt(schedule, x0, graph, 1, torch::full({1, frames}, 30, torch::kLong), free, noise, false);
  EXPECT_LT((uniform.target.select(1, 2) - (noise.select(1, 2) - noise.select(1, 2).mean(0)))
                .abs()
                .max()
                .item<double>(),
            1e-12);
  EXPECT_THROW(corrupt(schedule, x0, graph, 1, torch::zeros({1, frames + 1}, torch::kLong), free, noise),
               UsageError);
}

}  // namespace
}  // namespace hemeplm::diffusion
