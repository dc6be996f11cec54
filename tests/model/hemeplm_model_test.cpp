// The assembled HemePLM model: exact parameter counts of `paper` and `tiny` against the spec's
// formulas, hyperparameter overrides, E(3) and permutation equivariance of eps_hat and forces,
// batching without padding, pooling completed from partial sums (the decomposed path), double
// backward, and the alpha = 1 conformer mode. Float64 and the tiny configuration except for counts.
#include "hemeplm/model/hemeplm_model.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <numeric>
#include <set>
#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/config.hpp"

namespace hemeplm::model {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kI64 = torch::TensorOptions().dtype(torch::kLong);
constexpr std::int64_t kFrames = 4;

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

std::int64_t total(const std::vector<ModuleParameterCount>& counts, bool trainable = false) {
  std::int64_t sum = 0;
  for (const auto& c : counts) sum += trainable ? c.trainable_in_stage2 : c.parameters;
  return sum;
}

/// A toy complex: 3 "residues" of 5 atoms (anchor = 2nd atom), a 6-atom ligand ring and 2 lone waters,
/// in a 9 Å box-sized cloud; bond graph = chains and the ring with their 2- and 3-hop pairs.
HemePLMInput toy_complex(std::uint64_t seed, double cutoff) {
  torch::manual_seed(seed);
  const std::int64_t residues = 3, per_residue = 5, ligand = 6, waters = 2;
  const std::int64_t n = residues * per_residue + ligand + waters;
  HemePLMInput in;
  in.atomic_numbers = torch::randint(1, 20, {n}, kI64);
  in.atom_features = torch::randn({n, 42}, kF64);
  in.atom_graph = torch::zeros({n}, kI64);
  in.graph_count = 1;
  in.diffusion_step = torch::tensor({123}, kI64);
  const auto positions = torch::rand({n, 3}, kF64) * 9.0;

  // Bond graph: hop distance along each chain (residues) and around the ring (ligand).
  std::vector<std::int64_t> src, dst, type;
  auto add_group = [&](std::int64_t first, std::int64_t size, bool ring) {
    for (std::int64_t i = 0; i < size; ++i)
      for (std::int64_t j = 0; j < size; ++j) {
        std::int64_t hop = i > j ? i - j : j - i;
        if (ring) hop = std::min(hop, size - hop);
        if (hop >= 1 && hop <= 3) {
          src.push_back(first + j), dst.push_back(first + i), type.push_back(hop == 1 ? 1 : 3 + hop);
        }
      }
  };
  for (std::int64_t r = 0; r < residues; ++r) add_group(r * per_residue, per_residue, false);
  add_group(residues * per_residue, ligand, true);
  in.bond_src = torch::tensor(src, kI64);
  in.bond_dst = torch::tensor(dst, kI64);
  in.bond_type = torch::tensor(type, kI64);

  // Radius graph by brute force (test only; the program uses the decomposition layer's cell lists).
  std::vector<std::int64_t> rsrc, rdst;
  const auto d = torch::cdist(positions, positions);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      if (i != j && d[i][j].item<double>() < cutoff) rsrc.push_back(j), rdst.push_back(i);
  in.context_positions = positions;
  in.radius_src = torch::tensor(rsrc, kI64);
  in.radius_dst = torch::tensor(rdst, kI64);

  in.atom_residue = torch::full({n}, -1, kI64);
  for (std::int64_t r = 0; r < residues; ++r)
    in.atom_residue.narrow(0, r * per_residue, per_residue).fill_(r);
  in.residue_type = torch::tensor({3, 20, 7}, kI64);
  in.residue_anchor = torch::tensor({1, 6, 11}, kI64);
  in.residue_domain = torch::tensor({0, 1, 0}, kI64);
  in.ligand_atom = torch::zeros({n}, torch::kBool);
  in.ligand_atom.narrow(0, residues * per_residue, ligand).fill_(true);

  in.frame_times = torch::arange(kFrames, kI64);
  in.known_frames = torch::tensor({1, 0, 0, 0}, kI64).to(torch::kBool);
  in.x_given = positions.unsqueeze(1).repeat({1, kFrames, 1}) + 0.1 * torch::randn({n, kFrames, 3}, kF64);
  return in;
}

HemePLM tiny_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  HemePLM model(model_config("tiny"));
  model->to(torch::kFloat64);
  return model;
}

torch::Tensor random_rotation() {
  auto [q, r] = torch::linalg::qr(torch::randn({3, 3}, kF64));
  q = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
  if (torch::det(q).item<double>() < 0) q.select(1, 0).neg_();
  return q;
}

/// x -> x R^T + t on every coordinate of the input (context and frames) and of x_t.
HemePLMInput transformed(HemePLMInput in, const torch::Tensor& rotation, const torch::Tensor& shift) {
  in.context_positions = in.context_positions.matmul(rotation.t()) + shift;
  in.x_given = in.x_given.matmul(rotation.t()) + shift;
  return in;
}

TEST(HemePLMConfig, PaperCountsMatchSpecFormulasPerModule) {
  const auto paper = model_config("paper");
  const auto built = count_parameters(paper);
  const auto expected = expected_parameter_counts(paper);
  ASSERT_EQ(built.size(), expected.size());
  for (std::size_t i = 0; i < built.size(); ++i) {
    EXPECT_EQ(built[i].module, expected[i].module);
    EXPECT_EQ(built[i].parameters, expected[i].parameters) << built[i].module;
    EXPECT_EQ(built[i].trainable_in_stage2, expected[i].trainable_in_stage2) << built[i].module;
  }
  // The spec's table, module by module (model-spec.md "Full-model configuration near 18M").
  const std::vector<std::int64_t> table{9'815'298, 525'568,   71'168, 4'207'616 + 32,
                                        529'664,   3'267'301, 32'896};
  for (std::size_t i = 0; i < table.size(); ++i) EXPECT_EQ(built[i].parameters, table[i]) << built[i].module;
  EXPECT_EQ(total(built), 18'449'511 + 32);  // + 8 distance-bias weights in each of 4 sub-blocks
  EXPECT_EQ(total(built, true), 18'449'543 - 918'434);
  EXPECT_GT(total(built), 17'500'000);
  EXPECT_LT(total(built), 18'900'000);

  auto without_bias = paper;
  without_bias.distance_bias = false;
  EXPECT_EQ(total(count_parameters(without_bias)), 18'449'511);  // the spec's total exactly
  EXPECT_EQ(total(count_parameters(without_bias), true), 17'531'077);
}

TEST(HemePLMConfig, TinyIsSmallAndMatchesFormulas) {
  const auto tiny = model_config("tiny");
  const auto built = count_parameters(tiny);
  const auto expected = expected_parameter_counts(tiny);
  for (std::size_t i = 0; i < built.size(); ++i)
    EXPECT_EQ(built[i].parameters, expected[i].parameters) << built[i].module;
  EXPECT_LT(total(built), 300'000);
  EXPECT_GT(total(built), 100'000);
  // A denoiser at another width and the coordinate channel follow the generalised formulas too.
  auto other = tiny;
  set_hyperparameter(other, "denoiser.hidden", "48");
  set_hyperparameter(other, "time.output_dim", "24");
  set_hyperparameter(other, "cross_attention.coordinate_channel", "true");
  set_hyperparameter(other, "cross_attention.blocks", "2");
  const auto built_other = count_parameters(other);
  const auto expected_other = expected_parameter_counts(other);
  for (std::size_t i = 0; i < built_other.size(); ++i)
    EXPECT_EQ(built_other[i].parameters, expected_other[i].parameters) << built_other[i].module;
}

TEST(HemePLMConfig, HyperparameterOverridesAndErrors) {
  auto config = model_config("paper");
  set_hyperparameter(config, "visnet.hidden", "128");
  set_hyperparameter(config, "visnet.cutoff", "6.5");
  set_hyperparameter(config, "cross_attention.distance_bias", "off");
  EXPECT_EQ(config.visnet.hidden, 128);
  EXPECT_DOUBLE_EQ(config.visnet.cutoff, 6.5);
  EXPECT_FALSE(config.distance_bias);
  config.validate();

  // Every value round-trips through its text.
  auto copy = model_config("tiny");
  for (const auto& [key, value] : hyperparameter_values(config))
    if (key != "name") set_hyperparameter(copy, key, value);
  copy.name = config.name;
  EXPECT_EQ(hyperparameter_values(copy), hyperparameter_values(config));
  EXPECT_EQ(hyperparameters().size() + 1, hyperparameter_values(config).size());

  try {
    set_hyperparameter(config, "visnet.hiden", "64");
    FAIL() << "unknown key accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("visnet.hiden"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("visnet.hidden"), std::string::npos) << e.what();
  }
  EXPECT_THROW(set_hyperparameter(config, "visnet.layers", "nine"), UsageError);
  EXPECT_THROW(set_hyperparameter(config, "cross_attention.distance_bias", "maybe"), UsageError);
  set_hyperparameter(config, "cross_attention.heads", "7");  // 128 % 7 != 0
  EXPECT_THROW(config.validate(), UsageError);
  EXPECT_THROW(model_config("huge"), UsageError);
}

TEST(HemePLM, RotationTranslationEquivariantAndEnergyInvariant) {
  auto model = tiny_model(1);
  const auto in = toy_complex(2, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto eps = model->forward(in, x_t);
  ASSERT_EQ(eps.sizes(), (std::vector<std::int64_t>{in.atom_count(), kFrames - 1, 3}));
  ASSERT_TRUE(torch::isfinite(eps).all().item<bool>());

  const auto rotation = random_rotation();
  const auto shift = torch::randn({3}, kF64) * 5.0;
  const auto moved = transformed(in, rotation, shift);
  const auto eps_moved = model->forward(moved, x_t.matmul(rotation.t()) + shift);
  EXPECT_LT(rel(eps_moved, eps.matmul(rotation.t())), 1e-9);

  auto graph = in.context_graph();
  graph.positions = graph.positions.clone().requires_grad_(true);
  const auto ef = model->energy_and_forces(graph, false);
  auto graph_moved = moved.context_graph();
  graph_moved.positions = graph_moved.positions.clone().requires_grad_(true);
  const auto ef_moved = model->energy_and_forces(graph_moved, false);
  EXPECT_LT(rel(ef_moved.energy, ef.energy), 1e-9);
  EXPECT_LT(rel(ef_moved.forces, ef.forces.matmul(rotation.t())), 1e-9);
}

TEST(HemePLM, ReflectionReflectsEpsHat) {
  // Every part of the network sees geometry through distances, dot products and relative vectors, so
  // it is O(3)-equivariant: a mirror image gives the mirrored eps_hat. Handedness can only come in
  // through the chirality features (CIP labels), which a mirrored input would have swapped.
  auto model = tiny_model(3);
  const auto in = toy_complex(4, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto mirror = torch::diag(torch::tensor({-1.0, 1.0, 1.0}, kF64));
  const auto eps = model->forward(in, x_t);
  const auto eps_mirrored =
      model->forward(transformed(in, mirror, torch::zeros({3}, kF64)), x_t.matmul(mirror));
  EXPECT_LT(rel(eps_mirrored, eps.matmul(mirror)), 1e-9);
}

TEST(HemePLM, AtomPermutationPermutesOutputs) {
  auto model = tiny_model(5);
  const auto in = toy_complex(6, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto eps = model->forward(in, x_t);

  const auto n = in.atom_count();
  const auto perm = torch::randperm(n, kI64);  // new atom i is old atom perm[i]
  const auto inverse = torch::empty_like(perm).index_put_({perm}, torch::arange(n, kI64));
  HemePLMInput p = in;
  for (auto* t : {&p.atomic_numbers, &p.atom_features, &p.atom_graph, &p.context_positions, &p.atom_residue,
                  &p.ligand_atom, &p.x_given})
    *t = t->index_select(0, perm);
  for (auto* t : {&p.bond_src, &p.bond_dst, &p.radius_src, &p.radius_dst, &p.residue_anchor})
    *t = inverse.index_select(0, *t);
  const auto eps_p = model->forward(p, x_t.index_select(0, perm));
  EXPECT_LT(rel(eps_p, eps.index_select(0, perm)), 1e-12);
}

TEST(HemePLM, BatchedGraphsMatchEachAlone) {
  auto model = tiny_model(7);
  const double cutoff = model->config().visnet.cutoff;
  auto a = toy_complex(8, cutoff);
  auto b = toy_complex(9, cutoff);
  b.diffusion_step = torch::tensor({7}, kI64);
  const auto x_a = a.x_given + torch::randn_like(a.x_given);
  const auto x_b = b.x_given + torch::randn_like(b.x_given);
  const auto both = concatenate_inputs({a, b});
  ASSERT_EQ(both.graph_count, 2);
  const auto eps = model->forward(both, torch::cat({x_a, x_b}));
  EXPECT_LT(rel(eps.narrow(0, 0, a.atom_count()), model->forward(a, x_a)), 1e-12);
  EXPECT_LT(rel(eps.narrow(0, a.atom_count(), b.atom_count()), model->forward(b, x_b)), 1e-12);
}

TEST(HemePLM, PoolingCompletedFromPartialSumsEqualsWhole) {
  // What a decomposed run does: each rank pools only the residues it owns (the others are -1 there),
  // the partial sums are completed outside the model (here combine(); MPI in the sampler), and the
  // denoiser then sees the same pooled tokens as a single-rank run.
  auto model = tiny_model(10);
  const auto in = toy_complex(11, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto whole = model->forward(in, x_t);

  const auto context = model->encode(in);
  auto first = in, second = in;
  first.residue_domain = torch::tensor({0, -1, -1}, kI64);
  second.residue_domain = torch::tensor({-1, 1, 0}, kI64);
  const auto pooled =
      model->pool(combine(model->pooling_partials(first, context), model->pooling_partials(second, context)));
  EXPECT_LT(rel(model->denoise(in, context, pooled, x_t), whole), 1e-12);

  // And the context matters: without it (or without pooling) eps_hat is different.
  EXPECT_GT(rel(model->denoise(in, context, PooledTokens{}, x_t), whole), 1e-6);
  EXPECT_GT(rel(model->denoise(in, ContextEncoding{}, PooledTokens{}, x_t), whole), 1e-6);
}

TEST(HemePLM, SystemWithoutLigandOrResiduesWorks) {
  auto model = tiny_model(12);
  auto in = toy_complex(13, model->config().visnet.cutoff);
  in.ligand_atom = torch::zeros_like(in.ligand_atom);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  EXPECT_TRUE(torch::isfinite(model->forward(in, x_t)).all().item<bool>());
  in.atom_residue.fill_(-1);
  in.residue_type = torch::empty({0}, kI64);
  in.residue_anchor = torch::empty({0}, kI64);
  in.residue_domain = torch::empty({0}, kI64);
  EXPECT_TRUE(torch::isfinite(model->forward(in, x_t)).all().item<bool>());
  in.context_positions = torch::Tensor();
  EXPECT_TRUE(torch::isfinite(model->forward(in, x_t)).all().item<bool>());
}

TEST(HemePLM, JointLossReachesEveryTrainableParameterThroughDoubleBackward) {
  auto model = tiny_model(14);
  model->freeze_spatial();
  const auto in = toy_complex(15, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  auto graph = in.context_graph();
  graph.positions = graph.positions.clone().requires_grad_(true);
  const auto ef = model->energy_and_forces(graph, /*create_graph=*/true);
  const auto loss = model->forward(in, x_t).pow(2).mean() + ef.forces.pow(2).mean();
  loss.backward();
  // ViSNet parameters that get no (or an exactly zero) gradient by construction, as in the ViSNet
  // double-backward test (visnet_test.cpp): a constant energy offset, the head's unused final vector
  // output, and layer-0 maps whose input vectors are still exactly zero.
  const std::set<std::string> no_grad{
      "energy_model.head.block2.update_out.bias",       "energy_model.head.block2.vec2_proj.weight",
      "energy_model.backbone.layer0.vec_proj.weight",   "energy_model.backbone.layer0.w_src_proj.weight",
      "energy_model.backbone.layer0.w_trg_proj.weight", "energy_model.backbone.layer0.f_proj.weight",
      "energy_model.backbone.layer0.f_proj.bias"};
  for (const auto& p : model->named_parameters()) {
    if (no_grad.count(p.key()) != 0) {
      const auto& grad = p.value().grad();
      EXPECT_TRUE(!grad.defined() || grad.abs().max().item<double>() == 0.0) << p.key();
      continue;
    }
    if (!p.value().requires_grad()) {
      EXPECT_EQ(p.key().rfind("denoiser.", 0), 0u) << p.key() << " frozen outside the denoiser's stage 1";
      continue;
    }
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().max().item<double>(), 0.0) << p.key();
  }
}

TEST(HemePLM, ConformerModeWithAlphaOneIsPerFrame) {
  // With every mixing weight sigma(k) = 1 the stack is the frozen structure model applied to each
  // frame on its own (with the same context): frames no longer see each other.
  auto model = tiny_model(16);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().find("mix_logits") != std::string::npos) p.value().fill_(60.0);  // sigmoid(60) == 1.0
  }
  auto in = toy_complex(17, model->config().visnet.cutoff);
  in.known_frames = torch::Tensor();
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto eps = model->forward(in, x_t);
  for (std::int64_t f = 0; f < kFrames; ++f) {
    auto single = in;
    single.frame_times = torch::zeros({1}, kI64);
    single.x_given = in.x_given.narrow(1, f, 1);
    const auto eps_f = model->forward(single, x_t.narrow(1, f, 1));
    EXPECT_LT(rel(eps.narrow(1, f, 1), eps_f), 1e-12) << "frame " << f;
  }
}

TEST(HemePLM, InputThatDoesNotFitTheModelIsAClearError) {
  auto model = tiny_model(20);
  auto in = toy_complex(21, model->config().visnet.cutoff);
  const auto x_t = in.x_given.clone();
  in.residue_domain = torch::tensor({0, 4, 1}, kI64);  // tiny has 4 domains
  try {
    model->forward(in, x_t);
    FAIL() << "domain 4 accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("residue_domain"), std::string::npos) << e.what();
  }
  in.residue_domain = torch::tensor({0, 1, 1}, kI64);
  in.atomic_numbers[0] = 118;
  EXPECT_THROW(model->forward(in, x_t), UsageError);
}

TEST(HemePLM, Float32ModelRuns) {
  torch::manual_seed(18);
  HemePLM model(model_config("tiny"));
  auto in = toy_complex(19, model->config().visnet.cutoff);
  in.atom_features = in.atom_features.to(torch::kFloat32);
  in.context_positions = in.context_positions.to(torch::kFloat32);
  in.x_given = in.x_given.to(torch::kFloat32);
  const auto eps = model->forward(in, in.x_given + torch::randn_like(in.x_given));
  EXPECT_EQ(eps.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(eps).all().item<bool>());
}

// Per-frame diffusion steps [B, T] (the rolling sampler): equal steps reproduce the per-graph [B] step
// exactly, staggered ones change the output, and eps_hat stays E(3)-equivariant.
TEST(HemePLM, PerFrameStepsEqualUniformWhenEqualAndStayEquivariant) {
  auto model = tiny_model(30);
  auto in = toy_complex(31, model->config().visnet.cutoff);
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto uniform = model->forward(in, x_t);
  auto per_frame = in;
  per_frame.diffusion_step = torch::full({1, kFrames}, 123, kI64);
  EXPECT_LT(rel(model->forward(per_frame, x_t), uniform), 1e-12);
  EXPECT_LT(rel(model->time_conditioning(per_frame.diffusion_step, per_frame.known_frames),
                model->time_conditioning(in.diffusion_step)),
            1e-14);

  per_frame.diffusion_step = torch::tensor({{0, 10, 400, 900}}, kI64);
  const auto staggered = model->forward(per_frame, x_t);
  EXPECT_GT(rel(staggered, uniform), 1e-3);
  // The cross-attention sees the mean conditioning of the free frames only: the known frame's step is
  // ignored there.
  auto other_known = per_frame.diffusion_step.clone();
  other_known[0][0] = 777;
  EXPECT_LT(rel(model->time_conditioning(other_known, per_frame.known_frames),
                model->time_conditioning(per_frame.diffusion_step, per_frame.known_frames)),
            1e-14);

  const auto rotation = random_rotation();
  const auto shift = torch::randn({3}, kF64) * 5.0;
  const auto moved = transformed(per_frame, rotation, shift);
  EXPECT_LT(rel(model->forward(moved, x_t.matmul(rotation.t()) + shift), staggered.matmul(rotation.t())),
            1e-9);

  // Batched graphs with per-frame steps match each alone.
  auto second = toy_complex(32, model->config().visnet.cutoff);
  second.diffusion_step = torch::tensor({{0, 999, 500, 1}}, kI64);
  const auto x_t2 = second.x_given + torch::randn_like(second.x_given);
  const auto batched = model->forward(concatenate_inputs({per_frame, second}), torch::cat({x_t, x_t2}));
  EXPECT_LT(rel(batched.narrow(0, 0, x_t.size(0)), staggered), 1e-10);
  EXPECT_LT(rel(batched.narrow(0, x_t.size(0), x_t2.size(0)), model->forward(second, x_t2)), 1e-10);

  per_frame.diffusion_step = torch::zeros({1, kFrames + 1}, kI64);
  EXPECT_THROW(model->forward(per_frame, x_t), UsageError);
}

}  // namespace
}  // namespace hemeplm::model
