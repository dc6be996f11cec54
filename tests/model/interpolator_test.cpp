// EGInterpolator stack (model-spec.md (d)): exact parameter counts, E(3)/permutation equivariance,
// relative-time dependence of the temporal attention, the alpha = 1 "conformer mode" and the
// conditioning masks. Float64 and tiny sizes everywhere except the parameter counts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "hemeplm/model/egnn.hpp"
#include "hemeplm/model/temporal.hpp"

namespace hemeplm::model {
namespace {

constexpr std::int64_t kAtoms = 7;
constexpr std::int64_t kFrames = 5;
constexpr std::int64_t kHidden = 16;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kI64 = torch::TensorOptions().dtype(torch::kLong);

std::int64_t count(const torch::nn::Module& m, bool trainable_only) {
  std::int64_t total = 0;
  for (const auto& p : m.parameters()) {
    if (!trainable_only || p.requires_grad()) total += p.numel();
  }
  return total;
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

/// A 7-atom chain with its 1-, 2- and 3-hop pairs in both directions (edge type = hop count).
MoleculeInput molecule() {
  std::vector<std::int64_t> src, dst, type;
  for (std::int64_t i = 0; i < kAtoms; ++i) {
    for (std::int64_t j = 0; j < kAtoms; ++j) {
      const auto hop = i > j ? i - j : j - i;
      if (hop >= 1 && hop <= 3) {
        src.push_back(j);
        dst.push_back(i);
        type.push_back(hop);
      }
    }
  }
  MoleculeInput in;
  in.atomic_numbers = torch::randint(1, 100, {kAtoms}, kI64);
  in.atom_features = torch::randn({kAtoms, 42}, kF64);
  in.edge_src = torch::tensor(src, kI64);
  in.edge_dst = torch::tensor(dst, kI64);
  in.edge_type = torch::tensor(type, kI64);
  in.diffusion_step = torch::full({kAtoms}, 37, kI64);
  return in;
}

TrajectoryInput trajectory() {
  TrajectoryInput in;
  in.molecule = molecule();
  in.frame_times = torch::arange(kFrames, kI64);
  return in;
}

EGInterpolator small_interpolator() {
  EGInterpolator model(2, kHidden);
  model->to(torch::kFloat64);
  // Move the logits off 0 so that every mixing path is exercised with distinct weights.
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("mix_logits_", 0) == 0) p.value().uniform_(-1.0, 1.0);
  }
  return model;
}

/// Random orthogonal matrix; `reflect` flips its determinant to -1.
torch::Tensor orthogonal(bool reflect) {
  auto q = std::get<0>(torch::linalg_qr(torch::randn({3, 3}, kF64)));
  if ((q.det().item<double>() < 0) != reflect) q = -q;
  return q;
}

TEST(BasicES, ParameterCount) {
  EXPECT_EQ(count(*BasicESLayer(128, 4), false), 150830);
}

TEST(ETLayer, ParameterCount) {
  EXPECT_EQ(count(*ETLayer(128), false), 119937);
}

TEST(Conformer, ParameterCount) {
  EXPECT_EQ(count(*ConformerModel(6, 128), false), 918434);
}

TEST(BasicES, E3EquivariantPerFrame) {
  torch::manual_seed(7);
  BasicESLayer layer(kHidden, 4);
  layer->to(torch::kFloat64);
  const auto in = molecule();
  const auto attr = torch::randn({in.edge_src.size(0), 4}, kF64);
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto h = torch::randn({kAtoms, kFrames, kHidden}, kF64);
  const auto [x1, h1] = layer->forward(x, h, in.edge_src, in.edge_dst, attr);
  const auto q = orthogonal(true);
  const auto shift = torch::randn({1, 1, 3}, kF64);
  const auto [x2, h2] = layer->forward(x.matmul(q) + shift, h, in.edge_src, in.edge_dst, attr);
  EXPECT_LE(rel(x2, x1.matmul(q) + shift), 1e-12);
  EXPECT_LE(rel(h2, h1), 1e-12);
  // Frames are independent: frame 2 alone gives the same result.
  const auto [x3, h3] = layer->forward(x.slice(1, 2, 3), h.slice(1, 2, 3), in.edge_src, in.edge_dst, attr);
  EXPECT_LE(rel(x3, x1.slice(1, 2, 3)), 1e-14);
}

TEST(ETLayer, EquivariantAndRelativeInTime) {
  torch::manual_seed(8);
  ETLayer layer(kHidden);
  layer->to(torch::kFloat64);
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto h = torch::randn({kAtoms, kFrames, kHidden}, kF64);
  const auto times = torch::arange(kFrames, kI64);
  const auto [x1, h1] = layer->forward(x, h, times);
  const auto [x2, h2] = layer->forward(x, h, times - 4);  // negative offsets and times are fine
  EXPECT_LE(rel(x2, x1), 1e-14);
  EXPECT_LE(rel(h2, h1), 1e-14);
  const auto q = orthogonal(false);
  const auto shift = torch::randn({1, 1, 3}, kF64);
  const auto [x3, h3] = layer->forward(x.matmul(q) + shift, h, times);
  EXPECT_LE(rel(x3, x1.matmul(q) + shift), 1e-12);
  EXPECT_LE(rel(h3, h1), 1e-14);
}

TEST(Interpolator, ParameterCountAndFreeze) {
  EGInterpolator model(6, 128);
  EXPECT_EQ(count(*model, false), 3267301);
  model->freeze_spatial();
  EXPECT_EQ(count(*model, true), 2348867);
  // Exactly the stage-1 names are frozen.
  ConformerModel conformer(6, 128);
  const auto stage1 = conformer->named_parameters();
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(p.value().requires_grad(), stage1.find(p.key()) == nullptr) << p.key();
  }
}

TEST(Interpolator, FrozenStageOneGetsNoGradient) {
  torch::manual_seed(9);
  auto model = small_interpolator();
  model->freeze_spatial();
  auto in = trajectory();
  model->forward(in, torch::randn({kAtoms, kFrames, 3}, kF64)).pow(2).sum().backward();
  for (const auto& p : model->named_parameters()) {
    const bool has_grad = p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
    EXPECT_EQ(has_grad, p.value().requires_grad()) << p.key();
  }
}

TEST(Interpolator, E3EquivariantAndTranslationInvariant) {
  torch::manual_seed(1);
  auto model = small_interpolator();
  auto in = trajectory();
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto eps = model->forward(in, x);
  const auto shift = torch::randn({1, 1, 3}, kF64);
  EXPECT_LE(rel(model->forward(in, x + shift), eps), 1e-12);
  for (const bool reflect : {false, true}) {
    const auto q = orthogonal(reflect);
    EXPECT_LE(rel(model->forward(in, x.matmul(q) + shift), eps.matmul(q)), 1e-9) << "reflect " << reflect;
  }
}

TEST(Interpolator, AtomPermutationPermutesOutput) {
  torch::manual_seed(2);
  auto model = small_interpolator();
  auto in = trajectory();
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto eps = model->forward(in, x);
  const auto perm = torch::randperm(kAtoms, kI64);  // new atom k is old atom perm[k]
  const auto inv = torch::argsort(perm);            // old atom i is new atom inv[i]
  auto permuted = in;
  permuted.molecule.atomic_numbers = in.molecule.atomic_numbers.index_select(0, perm);
  permuted.molecule.atom_features = in.molecule.atom_features.index_select(0, perm);
  permuted.molecule.edge_src = inv.index_select(0, in.molecule.edge_src);
  permuted.molecule.edge_dst = inv.index_select(0, in.molecule.edge_dst);
  EXPECT_LE(rel(model->forward(permuted, x.index_select(0, perm)), eps.index_select(0, perm)), 1e-12);
}

TEST(Interpolator, TemporalAttentionSeesOnlyRelativeTimes) {
  torch::manual_seed(3);
  auto model = small_interpolator();
  auto in = trajectory();
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto eps = model->forward(in, x);
  auto shifted = in;
  shifted.frame_times = in.frame_times + 11;
  EXPECT_LE(rel(model->forward(shifted, x), eps), 1e-12);
  // ...but the spacing matters: the relative-time embedding is live.
  auto stretched = in;
  stretched.frame_times = in.frame_times * 3;
  EXPECT_GT(rel(model->forward(stretched, x), eps), 1e-6);
}

TEST(Interpolator, ConformerModeEqualsStageOnePerFrame) {
  torch::manual_seed(4);
  ConformerModel conformer(2, kHidden);
  conformer->to(torch::kFloat64);
  auto model = small_interpolator();
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    for (const auto& p : conformer->named_parameters()) {
      ASSERT_NE(params.find(p.key()), nullptr) << p.key();
      params[p.key()].copy_(p.value());
    }
    // sigma(1000) == 1 exactly in float64: every mix returns the frozen spatial output.
    for (auto& p : params) {
      if (p.key().rfind("mix_logits_", 0) == 0) p.value().fill_(1000.0);
    }
  }
  auto in = trajectory();
  in.known_frames = torch::zeros({kFrames}, torch::kBool);
  in.known_frames[0] = true;
  const auto x = torch::randn({kAtoms, kFrames, 3}, kF64);
  in.x_given = x;
  const auto eps = model->forward(in, x);
  ASSERT_EQ(eps.size(1), kFrames - 1);
  for (std::int64_t f = 1; f < kFrames; ++f) {
    const auto expected = conformer->forward(in.molecule, x.slice(1, f, f + 1));
    EXPECT_LE((eps.slice(1, f - 1, f) - expected).abs().max().item<double>(), 1e-10) << "frame " << f;
  }
}

TEST(Interpolator, StageOnePathIsTheConformerModel) {
  // forward_conformer (what stage-1 training runs) must be exactly ConformerModel with the same weights,
  // and gradients must reach only what freeze_spatial() freezes later.
  torch::manual_seed(5);
  ConformerModel conformer(2, kHidden);
  conformer->to(torch::kFloat64);
  auto model = small_interpolator();
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    for (const auto& p : conformer->named_parameters()) params[p.key()].copy_(p.value());
  }
  const auto in = trajectory();
  const auto x = torch::randn({kAtoms, 2, 3}, kF64);
  const auto eps = model->forward_conformer(in.molecule, x);
  EXPECT_EQ((eps - conformer->forward(in.molecule, x)).abs().max().item<double>(), 0.0);
  eps.pow(2).sum().backward();
  model->freeze_spatial();
  for (const auto& p : model->named_parameters()) {
    const bool stage_one = !p.value().requires_grad();
    const bool has_grad = p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
    if (!stage_one) {
      EXPECT_FALSE(has_grad) << p.key() << " is not in the conformer path";
    }
  }
}

TEST(Interpolator, ConditioningFramesAreFixedAndGetNoOutput) {
  torch::manual_seed(5);
  auto model = small_interpolator();
  auto in = trajectory();
  in.known_frames = torch::zeros({kFrames}, torch::kBool);
  in.known_frames[0] = true;
  in.known_frames[kFrames - 1] = true;  // transition-path sampling
  const auto x_t = torch::randn({kAtoms, kFrames, 3}, kF64);
  in.x_given = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto eps = model->forward(in, x_t);
  ASSERT_EQ(eps.sizes(), (std::vector<std::int64_t>{kAtoms, kFrames - 2, 3}));
  // Noise at conditioning frames is never read; clean values at free frames are never read.
  auto x_t2 = x_t.clone();
  x_t2.select(1, 0).normal_();
  x_t2.select(1, kFrames - 1).normal_();
  EXPECT_LE(rel(model->forward(in, x_t2), eps), 1e-14);
  auto moved_free = in;
  moved_free.x_given = in.x_given.clone();
  moved_free.x_given.select(1, 2).normal_();
  EXPECT_LE(rel(model->forward(moved_free, x_t), eps), 1e-14);
  // The conditioning frames do condition.
  auto moved_known = in;
  moved_known.x_given = in.x_given.clone();
  moved_known.x_given.select(1, 0).normal_();
  EXPECT_GT(rel(model->forward(moved_known, x_t), eps), 1e-6);
}

TEST(Interpolator, InpaintingMaskHoldsGivenAtoms) {
  torch::manual_seed(6);
  auto model = small_interpolator();
  auto in = trajectory();
  in.known_atoms = torch::zeros({kAtoms, kFrames}, torch::kBool);
  in.known_atoms.slice(0, 0, 2).fill_(true);  // atoms 0-1 fixed in every frame
  const auto x_t = torch::randn({kAtoms, kFrames, 3}, kF64);
  in.x_given = torch::randn({kAtoms, kFrames, 3}, kF64);
  const auto eps = model->forward(in, x_t);
  ASSERT_EQ(eps.size(1), kFrames);
  auto x_t2 = x_t.clone();
  x_t2.slice(0, 0, 2).normal_();
  EXPECT_LE(rel(model->forward(in, x_t2), eps), 1e-14);
  auto moved = in;
  moved.x_given = in.x_given.clone();
  moved.x_given.slice(0, 0, 2).normal_();
  EXPECT_GT(rel(model->forward(moved, x_t), eps), 1e-6);
  // The condition-state embedding makes the mask itself visible even for identical coordinates.
  auto no_mask = in;
  no_mask.known_atoms = torch::Tensor();
  const auto x_same = torch::where(in.known_atoms.unsqueeze(-1), in.x_given, x_t);
  EXPECT_GT(rel(model->forward(no_mask, x_same), eps), 1e-6);
}

}  // namespace
}  // namespace hemeplm::model
