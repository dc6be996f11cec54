// Property heads (HOMO-LUMO gap, ...) of the HemePLM model: invariance to rotations, reflections and
// translations, the per-molecule mean against a plain per-graph loop, the standardisation round trip,
// the parameter-count formula, and registration only when property heads are configured (older
// checkpoints keep their module tree). float64 on small graphs built by brute force.
#include "hemeplm/model/property_heads.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/hemeplm_model.hpp"

namespace hemeplm::model {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// All ordered pairs (j -> i) of the same graph closer than the cutoff, no self-loops.
AtomGraph build_graph(const torch::Tensor& positions, const torch::Tensor& atomic_numbers,
                      const torch::Tensor& batch, std::int64_t graph_count, double cutoff) {
  const auto p = positions.contiguous();
  const auto pa = p.accessor<double, 2>();
  const auto ba = batch.accessor<std::int64_t, 1>();
  std::vector<std::int64_t> src, dst;
  for (std::int64_t i = 0; i < p.size(0); ++i)
    for (std::int64_t j = 0; j < p.size(0); ++j) {
      if (i == j || ba[i] != ba[j]) continue;
      double r2 = 0.0;
      for (int k = 0; k < 3; ++k) r2 += (pa[i][k] - pa[j][k]) * (pa[i][k] - pa[j][k]);
      if (r2 < cutoff * cutoff) src.push_back(j), dst.push_back(i);
    }
  const auto edges = static_cast<std::int64_t>(src.size());
  AtomGraph g;
  g.atomic_numbers = atomic_numbers;
  g.positions = positions;
  g.edge_src = torch::from_blob(src.data(), {edges}, torch::kLong).clone();
  g.edge_dst = torch::from_blob(dst.data(), {edges}, torch::kLong).clone();
  g.batch = batch;
  g.graph_count = graph_count;
  return g;
}

torch::Tensor random_rotation() {
  auto q = std::get<0>(torch::linalg_qr(torch::randn({3, 3}, kF64)));
  if (torch::det(q).item<double>() < 0) q = q * torch::tensor({-1.0, 1.0, 1.0}, kF64);
  return q;
}

HemePLMConfig config_with(const std::string& heads) {
  auto c = model_config("tiny");
  c.visnet.cutoff = 4.0;
  c.property_heads = heads;
  return c;
}

/// Two molecules of different sizes (5 and 7 atoms) on jittered lines and zig-zags.
struct Molecules {
  torch::Tensor z, positions, batch;
};
Molecules two_molecules() {
  Molecules m;
  m.z = torch::tensor({6, 1, 1, 8, 7, 6, 6, 1, 8, 1, 7, 1}, torch::kLong);
  std::vector<double> xyz;
  for (int a = 0; a < 5; ++a) xyz.insert(xyz.end(), {1.3 * a, 0.4 * (a % 2), 0.0});
  for (int a = 0; a < 7; ++a) xyz.insert(xyz.end(), {20.0 + 1.2 * a, 0.5 * (a % 2), 0.3 * (a % 3)});
  m.positions =
      torch::from_blob(xyz.data(), {12, 3}, kF64).clone() + 0.2 * (torch::rand({12, 3}, kF64) - 0.5);
  m.batch = torch::cat({torch::zeros({5}, torch::kLong), torch::ones({7}, torch::kLong)});
  return m;
}

/// Moves parameters off their initial values (zero biases) so every path contributes.
void perturb(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(0.1 * torch::randn_like(p));
}

TEST(PropertyHeads, InvariantToRotationReflectionAndTranslation) {
  torch::manual_seed(3);
  HemePLM model(config_with("gap,mu"));
  model->to(torch::kFloat64);
  perturb(*model);
  model->set_property_standardization({{6.8, 1.3}, {2.5, 1.5}});
  const auto m = two_molecules();
  const double cutoff = model->config().visnet.cutoff;
  const auto reference = model->properties(build_graph(m.positions, m.z, m.batch, 2, cutoff));
  ASSERT_EQ(reference.sizes(), (std::vector<std::int64_t>{2, 2}));
  const auto rotation = random_rotation();
  const auto reflection = torch::matmul(rotation, torch::diag(torch::tensor({-1.0, 1.0, 1.0}, kF64)));
  for (const auto& q : {rotation, reflection}) {
    const auto moved = torch::matmul(m.positions, q.t()) + torch::tensor({3.0, -7.0, 11.0}, kF64);
    const auto out = model->properties(build_graph(moved, m.z, m.batch, 2, cutoff));
    EXPECT_LT((out - reference).abs().max().item<double>(), 1e-10);
  }
  // Not trivially constant: the two molecules differ, and moving one atom changes its molecule only.
  EXPECT_GT((reference[0] - reference[1]).abs().max().item<double>(), 1e-6);
  auto bent = m.positions.clone();
  bent[1][1] += 0.3;
  const auto out = model->properties(build_graph(bent, m.z, m.batch, 2, cutoff));
  EXPECT_GT((out[0] - reference[0]).abs().max().item<double>(), 1e-8);
  EXPECT_LT((out[1] - reference[1]).abs().max().item<double>(), 1e-12);
}

TEST(PropertyHeads, MoleculeValueIsTheMeanOfAtomValues) {
  torch::manual_seed(5);
  HemePLM model(config_with("gap"));
  model->to(torch::kFloat64);
  perturb(*model);
  const auto m = two_molecules();
  const auto graph = build_graph(m.positions, m.z, m.batch, 2, model->config().visnet.cutoff);
  const auto batched = model->properties_standardised(graph);
  // Plain reference: the head's per-atom values, averaged in a loop per molecule.
  const auto features = model->energy_model()->backbone()->forward(graph);
  auto* gap = model->property_heads()->named_children()[0].value()->as<PropertyHeadImpl>();
  ASSERT_NE(gap, nullptr);
  const auto per_atom =
      gap->named_children()[0].value()->as<EquivariantScalarImpl>()->forward(features.x, features.v);
  for (std::int64_t g = 0; g < 2; ++g) {
    double sum = 0;
    int atoms = 0;
    for (std::int64_t a = 0; a < 12; ++a)
      if (m.batch[a].item<std::int64_t>() == g) sum += per_atom[a].item<double>(), ++atoms;
    EXPECT_NEAR(batched[g][0].item<double>(), sum / atoms, 1e-12);
  }
  // A molecule alone gives what it gives in the batch.
  const auto first = torch::arange(5, torch::kLong);
  const auto alone = model->properties_standardised(build_graph(m.positions.index_select(0, first),
                                                                m.z.index_select(0, first),
                                                                torch::zeros({5}, torch::kLong), 1, 4.0));
  EXPECT_NEAR(alone[0][0].item<double>(), batched[0][0].item<double>(), 1e-12);
}

TEST(PropertyHeads, StandardisationRoundTripAndCheckpointBuffers) {
  torch::manual_seed(7);
  HemePLM model(config_with("gap,homo"));
  model->to(torch::kFloat64);
  EXPECT_EQ(model->property_names(), (std::vector<std::string>{"gap", "homo"}));
  const auto m = two_molecules();
  const auto graph = build_graph(m.positions, m.z, m.batch, 2, 4.0);
  model->set_property_standardization({{6.5, 1.25}, {-7.0, 0.5}});
  const auto y = model->properties_standardised(graph);
  const auto physical = model->properties(graph);
  EXPECT_LT((physical.select(1, 0) - (1.25 * y.select(1, 0) + 6.5)).abs().max().item<double>(), 1e-12);
  EXPECT_LT((physical.select(1, 1) - (0.5 * y.select(1, 1) - 7.0)).abs().max().item<double>(), 1e-12);
  const auto heads = model->property_heads();
  EXPECT_LT((heads->to_standardised(physical) - y).abs().max().item<double>(), 1e-12);
  // The statistics are buffers under stable names (they travel in checkpoints).
  auto buffers = model->named_buffers();
  ASSERT_TRUE(buffers.contains("property_heads.gap.mean"));
  ASSERT_TRUE(buffers.contains("property_heads.homo.std"));
  EXPECT_DOUBLE_EQ(buffers["property_heads.gap.mean"].item<double>(), 6.5);
  EXPECT_DOUBLE_EQ(buffers["property_heads.homo.std"].item<double>(), 0.5);
  EXPECT_THROW(model->set_property_standardization({{0.0, 1.0}}), UsageError);
  EXPECT_THROW(model->set_property_standardization({{0.0, 1.0}, {0.0, 0.0}}), UsageError);
}

TEST(PropertyHeads, ParameterCountFormulaAndRegistration) {
  for (const std::string heads : {"gap", "gap,homo,lumo"}) {
    auto config = config_with(heads);
    const auto built = count_parameters(config);
    const auto expected = expected_parameter_counts(config);
    ASSERT_EQ(built.size(), expected.size());
    ASSERT_EQ(built.back().module, "property_heads");
    ASSERT_EQ(expected.back().module, "property_heads");
    for (std::size_t i = 0; i < built.size(); ++i)
      EXPECT_EQ(built[i].parameters, expected[i].parameters) << built[i].module;
    const std::int64_t h = config.visnet.hidden;
    const auto p = static_cast<std::int64_t>(split_property_heads(heads).size());
    EXPECT_EQ(built.back().parameters, p * (21 * h * h / 4 + 4 * h + 2));
  }
  for (const std::string hidden : {"64", "128"}) {  // other widths follow the formula too
    auto config = config_with("gap");
    set_hyperparameter(config, "visnet.hidden", hidden);
    EXPECT_EQ(count_parameters(config).back().parameters,
              expected_parameter_counts(config).back().parameters);
  }
  // Without property heads the module tree (and so a checkpoint's names) is what it was before.
  HemePLM plain(model_config("tiny"));
  EXPECT_FALSE(plain->has_property_heads());
  for (const auto& child : plain->named_children()) EXPECT_NE(child.key(), "property_heads");
  for (const auto& item : plain->named_parameters())
    EXPECT_EQ(item.key().find("property_heads"), std::string::npos);
  EXPECT_TRUE(plain->property_names().empty());
  EXPECT_THROW(plain->set_property_standardization({{0.0, 1.0}}), UsageError);
  EXPECT_THROW(PropertyHeads(std::vector<std::string>{"gap", "gap"}, 32), UsageError);
  auto bad = model_config("tiny");
  bad.property_heads = "gap,Energy";
  EXPECT_THROW(bad.validate(), UsageError);
}

}  // namespace
}  // namespace hemeplm::model
