// Forward corruption (training steps 2-4), the epsilon loss and the loss EMA.
#include "hemeplm/diffusion/loss.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/geometry.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"

namespace hemeplm::diffusion {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

double max_abs(const torch::Tensor& t) {
  return t.numel() == 0 ? 0.0 : t.abs().max().item<double>();
}

// Per-graph mean of x over the selected entries: [B, 3].
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& graph, std::int64_t graphs,
                          const torch::Tensor& entries) {
  std::vector<torch::Tensor> means;
  for (std::int64_t g = 0; g < graphs; ++g) {
    const auto sel = (graph == g).unsqueeze(1) & entries;
    means.push_back(x.index({sel}).mean(0));
  }
  return torch::stack(means);
}

struct Example {
  std::int64_t atoms = 9, frames = 5, graphs = 2;
  torch::Tensor graph = torch::tensor({0, 0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong);
  torch::Tensor x0, noise, free;
  explicit Example(std::uint64_t seed) {
    auto generator = keyed_generator({seed});
    x0 = torch::randn({atoms, frames, 3}, generator, kF64) * 2.0 + 3.0;
    noise = torch::randn({atoms, frames, 3}, generator, kF64);
    // Graph 0: forecast (frame 0 known). Graph 1: inpainting (frame 0 and atoms 5, 6 known).
    free = torch::ones({atoms, frames}, torch::kBool);
    free.select(1, 0).fill_(false);
    free.slice(0, 5, 7).fill_(false);
  }
};

TEST(Corrupt, WithoutKabschIsTheClosedForm) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const Example e(1);
  const auto steps = torch::tensor({10, 70}, torch::kLong);
  const auto batch = corrupt(schedule, e.x0, e.graph, e.graphs, steps, e.free, e.noise, /*kabsch=*/false);
  const auto known = e.free.logical_not();
  // x0 centred per graph over all entries.
  EXPECT_LT(max_abs(masked_mean(batch.x0, e.graph, e.graphs, torch::ones_like(e.free))), 1e-12);
  EXPECT_LT(max_abs(batch.x0 - remove_center_of_mass(e.x0, e.graph, e.graphs)), 1e-14);
  // Noise: zero on known entries, zero CoM over free entries, otherwise the given noise shifted per graph.
  EXPECT_EQ(max_abs(batch.target.index({known})), 0.0);
  EXPECT_LT(max_abs(masked_mean(batch.target, e.graph, e.graphs, e.free)), 1e-12);
  EXPECT_LT(max_abs(batch.target -
                    remove_center_of_mass(e.noise * e.free.unsqueeze(-1), e.graph, e.graphs, e.free)),
            1e-14);
  EXPECT_TRUE(torch::equal(batch.x_t.index({known}), batch.x0.index({known})));
  const auto sa = schedule.per_atom(schedule.sqrt_alphas_cumprod(), steps, e.graph);
  const auto s1 = schedule.per_atom(schedule.sqrt_one_minus_alphas_cumprod(), steps, e.graph);
  const auto expected = sa * batch.x0 + s1 * batch.target;
  EXPECT_LT(max_abs((batch.x_t - expected).index({e.free})), 1e-14);
  EXPECT_TRUE(torch::equal(batch.free, e.free));
}

TEST(Corrupt, KabschAlignsAndRecomputesTarget) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const Example e(2);
  const auto steps = torch::tensor({30, 55}, torch::kLong);
  const auto plain = corrupt(schedule, e.x0, e.graph, e.graphs, steps, e.free, e.noise, false);
  const auto batch = corrupt(schedule, e.x0, e.graph, e.graphs, steps, e.free, e.noise, true);
  const auto known = e.free.logical_not();
  const auto sa = schedule.per_atom(schedule.sqrt_alphas_cumprod(), steps, e.graph);
  const auto s1 = schedule.per_atom(schedule.sqrt_one_minus_alphas_cumprod(), steps, e.graph);
  EXPECT_TRUE(torch::equal(batch.x_t.index({known}), batch.x0.index({known})));
  EXPECT_EQ(max_abs(batch.target.index({known})), 0.0);
  EXPECT_LT(max_abs((batch.x_t - (sa * batch.x0 + s1 * batch.target)).index({e.free})), 1e-12);
  EXPECT_LT(max_abs(masked_mean(batch.target, e.graph, e.graphs, e.free)), 1e-12);
  EXPECT_GT(max_abs(batch.x_t - plain.x_t), 1e-3);  // the alignment did something
  for (std::int64_t g = 0; g < e.graphs; ++g) {
    const auto sel = (e.graph == g).unsqueeze(1) & e.free;
    const auto aligned = batch.x_t.index({sel});
    const auto before = plain.x_t.index({sel});
    const auto clean = batch.x0.index({sel});
    // Rigid: all distances among the free entries are kept.
    EXPECT_LT(max_abs(torch::cdist(aligned, aligned) - torch::cdist(before, before)), 1e-10);
    // Closer to x0 than before the alignment.
    EXPECT_LE((aligned - clean).pow(2).sum().item<double>(), (before - clean).pow(2).sum().item<double>());
  }
}

TEST(Corrupt, AllFreeMatchesSpecAlignmentOntoX0) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 50);
  const Example e(3);
  const auto all = torch::ones_like(e.free);
  const auto steps = torch::tensor({5, 40}, torch::kLong);
  const auto plain = corrupt(schedule, e.x0, e.graph, e.graphs, steps, all, e.noise, false);
  const auto batch = corrupt(schedule, e.x0, e.graph, e.graphs, steps, all, e.noise, true);
  const auto spec = kabsch_align_reference(plain.x_t, plain.x0, e.graph, e.graphs);
  EXPECT_LT(max_abs(batch.x_t - spec), 1e-10);
}

TEST(Corrupt, LastStepIsAlmostPureNoise) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 1000);
  const std::int64_t atoms = 600, frames = 4, graphs = 3;
  auto generator = keyed_generator({4});
  const auto graph = torch::arange(atoms, torch::kLong).div(200, "floor");
  const auto x0 = torch::randn({atoms, frames, 3}, generator, kF64) * 5.0;
  const auto noise = torch::randn({atoms, frames, 3}, generator, kF64);
  const auto free = torch::ones({atoms, frames}, torch::kBool);
  const auto steps = torch::full({graphs}, 999, torch::kLong);
  for (const bool kabsch : {false, true}) {
    const auto batch = corrupt(schedule, x0, graph, graphs, steps, free, noise, kabsch);
    EXPECT_NEAR(batch.x_t.mean().item<double>(), 0.0, 0.03);
    EXPECT_NEAR(batch.x_t.std().item<double>(), 1.0, 0.03);
    // x_t is the target up to sqrt(abar_T) x0 ~ 6e-3 * 5.
    EXPECT_LT(max_abs(batch.x_t - batch.target), 0.2);
    if (!kabsch) {
      const auto corr = torch::corrcoef(torch::stack({batch.x_t.flatten(), noise.flatten()}))[0][1];
      EXPECT_GT(corr.item<double>(), 0.99);
    }
  }
}

TEST(Corrupt, KeepsDtypeAndChecksSteps) {
  const NoiseSchedule schedule(ScheduleKind::kCosine, 20);
  const Example e(5);
  const auto batch = corrupt(schedule, e.x0.to(torch::kFloat32), e.graph, e.graphs, torch::tensor({0, 19}),
                             e.free, e.noise.to(torch::kFloat32));
  EXPECT_EQ(batch.x0.scalar_type(), torch::kFloat32);
  EXPECT_EQ(batch.x_t.scalar_type(), torch::kFloat32);
  EXPECT_EQ(batch.target.scalar_type(), torch::kFloat32);
  EXPECT_THROW(corrupt(schedule, e.x0, e.graph, e.graphs, torch::tensor({0, 20}), e.free, e.noise),
               UsageError);
  EXPECT_THROW(corrupt(schedule, e.x0, e.graph, e.graphs, torch::tensor({-1, 2}), e.free, e.noise),
               UsageError);
  EXPECT_THROW(corrupt(schedule, e.x0, e.graph, e.graphs, torch::tensor({1}), e.free, e.noise), UsageError);
}

TEST(EpsilonLoss, HandComputedTinyCase) {
  // Three graphs: {a, b}, {c}, {d}; two frames, frame 0 known; d is a known atom (no free entry at all).
  const auto graph = torch::tensor({0, 0, 1, 2}, torch::kLong);
  NoisedBatch batch;
  batch.free = torch::tensor({0, 1, 0, 1, 0, 1, 0, 0}, torch::kBool).view({4, 2});
  batch.target = torch::zeros({4, 2, 3}, kF64);
  batch.target[1][1] = torch::tensor({0.0, 1.0, 0.0}, kF64);
  batch.target[2][1] = torch::tensor({1.0, 2.0, 2.0}, kF64);
  const auto free_frames = torch::tensor({1}, torch::kLong);
  const auto eps_hat = torch::tensor({1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 5.0, 5.0, 5.0, 7.0, 7.0, 7.0}, kF64)
                           .view({4, 1, 3})
                           .requires_grad_(true);
  const auto weight = torch::tensor({1.0, 2.0, 4.0, 1.0}, kF64);
  const auto loss = epsilon_loss(eps_hat, free_frames, batch, graph, 3, weight);
  // Graph 0: projected a = (-1,0,0), b = (1,0,0); per-entry 1/3 and 2/3; weighted (1/3 + 2 * 2/3) / 3 = 5/9.
  // Graph 1: projected c = 0; (1 + 4 + 4) / 3 = 3. Graph 2: no free entry -> 0.
  EXPECT_NEAR(loss[0].item<double>(), 5.0 / 9.0, 1e-15);
  EXPECT_NEAR(loss[1].item<double>(), 3.0, 1e-15);
  EXPECT_EQ(loss[2].item<double>(), 0.0);
  loss.sum().backward();
  EXPECT_FALSE(torch::isnan(eps_hat.grad()).any().item<bool>());
  EXPECT_EQ(max_abs(eps_hat.grad()[3]), 0.0);
  // Unweighted graph 0: (1/3 + 2/3) / 2.
  const auto unweighted = epsilon_loss(eps_hat, free_frames, batch, graph, 3);
  EXPECT_NEAR(unweighted[0].item<double>(), 0.5, 1e-15);
}

TEST(EpsilonLoss, ZeroAtProjectedTargetAndGradientOnlyAtFreeEntries) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const Example e(6);
  const auto steps = torch::tensor({20, 80}, torch::kLong);
  const auto batch = corrupt(schedule, e.x0, e.graph, e.graphs, steps, e.free, e.noise, true);
  auto known_frames = torch::zeros({e.frames}, torch::kBool);
  known_frames[0] = true;
  const auto frames = free_frame_indices(known_frames, e.frames);
  ASSERT_TRUE(torch::equal(frames, torch::tensor({1, 2, 3, 4}, torch::kLong)));
  const auto free = e.free.index_select(1, frames);
  const auto projected = remove_center_of_mass(batch.target.index_select(1, frames), e.graph, e.graphs, free);
  // A per-graph constant shift of eps_hat is removed by the projection; known entries are ignored.
  auto eps_hat = projected + torch::tensor({1.0, -2.0, 0.5}, kF64) * (e.graph == 1).to(kF64).view({-1, 1, 1});
  eps_hat = torch::where(free.unsqueeze(-1), eps_hat, torch::full_like(eps_hat, 42.0));
  const auto zero = epsilon_loss(eps_hat, frames, batch, e.graph, e.graphs);
  EXPECT_LT(zero.abs().max().item<double>(), 1e-24);

  auto generator = keyed_generator({7});
  const auto guess = torch::randn(eps_hat.sizes(), generator, kF64).requires_grad_(true);
  const auto loss = epsilon_loss(guess, frames, batch, e.graph, e.graphs);
  EXPECT_GT(loss.min().item<double>(), 0.1);
  loss.sum().backward();
  const auto grad_norm = guess.grad().abs().sum(-1);
  EXPECT_EQ(max_abs(grad_norm.index({free.logical_not()})), 0.0);
  EXPECT_TRUE((grad_norm.index({free}) > 0).all().item<bool>());
}

TEST(EpsilonLoss, FreeFrameIndices) {
  EXPECT_TRUE(torch::equal(free_frame_indices({}, 3), torch::tensor({0, 1, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(free_frame_indices(torch::tensor({1, 0, 0, 1}, torch::kBool), 4),
                           torch::tensor({1, 2}, torch::kLong)));
  EXPECT_THROW(free_frame_indices(torch::tensor({1, 0}, torch::kBool), 3), UsageError);
}

TEST(LossEma, SequenceGradientAndRestore) {
  LossEma ema(0.5);
  EXPECT_FALSE(ema.initialised());
  const auto first = torch::tensor(2.0, kF64).requires_grad_(true);
  EXPECT_EQ(ema.apply(first).item<double>(), 2.0);
  EXPECT_TRUE(ema.initialised());
  const auto second = torch::tensor(4.0, kF64).requires_grad_(true);
  const auto out = ema.apply(second);
  EXPECT_EQ(out.item<double>(), 3.0);
  out.backward();
  EXPECT_EQ(second.grad().item<double>(), 0.5);  // the previous value is a constant
  EXPECT_EQ(ema.apply(torch::tensor(1.0, kF64)).item<double>(), 2.0);
  EXPECT_EQ(ema.value(), 2.0);

  LossEma resumed(0.5);
  resumed.restore(ema.initialised(), ema.value());
  EXPECT_EQ(resumed.apply(torch::tensor(6.0, kF64)).item<double>(),
            ema.apply(torch::tensor(6.0, kF64)).item<double>());
  EXPECT_EQ(resumed.value(), 4.0);
  EXPECT_EQ(LossEma().alpha(), 0.05);
  EXPECT_THROW(LossEma(0.0), UsageError);
  EXPECT_THROW(LossEma(1.5), UsageError);
  EXPECT_THROW(ema.apply(torch::ones({2}, kF64)), UsageError);
}

}  // namespace
}  // namespace hemeplm::diffusion
