// ViSNet backbone + EquivariantScalar head: parameter counts against the spec formula, E(3) and permutation
// symmetry, autograd forces against finite differences, and double backward for force matching. All in
// float64 on tiny graphs built by brute force (O(N^2) is fine for test sizes; production edges come from
// the decomposition layer's cell lists).
#include "hemeplm/model/visnet.hpp"

#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::model {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// All ordered pairs (j -> i) of the same graph closer than the cutoff, no self-loops.
AtomGraph build_graph(const torch::Tensor& positions, const torch::Tensor& atomic_numbers,
                      const torch::Tensor& batch, std::int64_t graph_count, double cutoff) {
  const auto p = positions.detach().contiguous();
  const auto pa = p.accessor<double, 2>();
  const auto ba = batch.accessor<std::int64_t, 1>();
  std::vector<std::int64_t> src, dst;
  for (std::int64_t i = 0; i < p.size(0); ++i) {
    for (std::int64_t j = 0; j < p.size(0); ++j) {
      if (i == j || ba[i] != ba[j]) continue;
      double r2 = 0.0;
      for (int k = 0; k < 3; ++k) r2 += (pa[i][k] - pa[j][k]) * (pa[i][k] - pa[j][k]);
      if (r2 < cutoff * cutoff) src.push_back(j), dst.push_back(i);
    }
  }
  const auto n_edges = static_cast<std::int64_t>(src.size());
  AtomGraph g;
  g.atomic_numbers = atomic_numbers;
  g.positions = positions;
  g.edge_src = torch::from_blob(src.data(), {n_edges}, torch::kLong).clone();
  g.edge_dst = torch::from_blob(dst.data(), {n_edges}, torch::kLong).clone();
  g.batch = batch;
  g.graph_count = graph_count;
  return g;
}

/// A jittered 3 x 2 x 2 grid (1.8 Å spacing) per graph: some pairs beyond a 4 Å cutoff, none too close.
torch::Tensor grid_positions(std::int64_t graphs) {
  std::vector<double> xyz;
  for (std::int64_t g = 0; g < graphs; ++g)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c) xyz.insert(xyz.end(), {1.8 * a, 1.8 * b, 1.8 * c});
  const auto n = static_cast<std::int64_t>(xyz.size() / 3);
  return torch::from_blob(xyz.data(), {n, 3}, kF64).clone() + 0.5 * (torch::rand({n, 3}, kF64) - 0.5);
}

torch::Tensor random_rotation() {
  const auto qr = torch::linalg_qr(torch::randn({3, 3}, kF64));
  auto q = std::get<0>(qr);
  if (torch::det(q).item<double>() < 0) q = q * torch::tensor({-1.0, 1.0, 1.0}, kF64);  // flip a column
  return q;
}

double rel_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-300);
}

/// Moves biases and gains off their init values so symmetry tests exercise every path.
void perturb(torch::nn::Module& module, double scale) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(scale * torch::randn_like(p));
}

ViSNetConfig test_config(std::int64_t lmax) {
  auto c = visnet_config("tiny");
  c.lmax = lmax;
  c.cutoff = 4.0;
  return c;
}

struct Sample {
  torch::Tensor z, batch;
};

Sample sample(std::int64_t n, std::int64_t graphs) {
  const auto z = torch::tensor({1, 6, 7, 8, 16, 26}, torch::kLong).repeat({(n + 5) / 6}).slice(0, 0, n);
  return {z, torch::arange(graphs, torch::kLong).repeat_interleave(n / graphs)};
}

std::int64_t count(const torch::nn::Module& m) {
  std::int64_t total = 0;
  for (const auto& p : m.parameters()) total += p.numel();
  return total;
}

TEST(ViSNetConfig, NamedConfigsAndErrors) {
  const auto paper = visnet_config("paper");
  EXPECT_EQ(paper.hidden, 256);
  EXPECT_EQ(paper.layers, 9);
  EXPECT_EQ(paper.lmax, 2);
  EXPECT_EQ(paper.num_rbf, 32);
  EXPECT_EQ(paper.vector_components(), 8);
  EXPECT_EQ(visnet_config("tiny").vector_components(), 3);
  EXPECT_THROW(visnet_config("huge"), UsageError);
  auto bad = paper;
  bad.heads = 7;
  EXPECT_THROW(bad.validate(), UsageError);
}

void expect_spec_count(const ViSNetConfig& c, std::int64_t expected) {
  EXPECT_EQ(c.expected_parameter_count(), expected);
  EnergyModel model(c);
  const std::int64_t h = c.hidden, z = c.max_z, r = c.num_rbf;
  // Per module, as derived in model-spec.md (a).
  auto expected_for = [&](const std::string& name) -> std::int64_t {
    if (name == "rbf") return 0;  // the ExpNormal basis is not trainable
    if (name == "embedding") return z * h;
    if (name == "neighbor_embedding") return z * h + r * h + h + 2 * h * h + h;
    if (name == "edge_embedding") return r * h + h;
    if (name == "out_norm") return 2 * h;
    const bool last = name == "layer" + std::to_string(c.layers - 1);
    return last ? 13 * h * h + 12 * h : 16 * h * h + 13 * h;  // ViS-MP layers
  };
  for (const auto& child : model->backbone()->named_children()) {
    EXPECT_EQ(count(*child.value()), expected_for(child.key())) << child.key();
  }
  EXPECT_EQ(count(*model->head()), 21 * h * h / 4 + 4 * h + 2);
  EXPECT_EQ(count(*model), expected);
}

TEST(ViSNetParameters, PaperMatchesSpecFormula) {
  expect_spec_count(visnet_config("paper"), 9'815'298);
}

TEST(ViSNetParameters, ChignolinMatchesSpecFormula) {
  expect_spec_count(visnet_config("chignolin"), 1'687'298);
  auto c = visnet_config("chignolin");
  c.lmax = 2;  // lmax does not change the count
  EXPECT_EQ(count(*EnergyModel(c)), 1'687'298);
}

class ViSNetSymmetry : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(ViSNetSymmetry, RotationTranslationAndReflection) {
  torch::manual_seed(11);
  const auto cfg = test_config(GetParam());
  EnergyModel model(cfg);
  model->to(torch::kFloat64);
  perturb(*model, 0.05);
  const auto s = sample(12, 1);
  const auto pos = grid_positions(1).requires_grad_(true);
  const auto g = build_graph(pos, s.z, s.batch, 1, cfg.cutoff);
  const auto ref = model->energy_and_forces(g, false);
  const auto feat = model->backbone()->forward(g);

  // Proper rotation R (+ translation), then the improper P = R diag(-1, 1, 1). Under P the l = 1 harmonics
  // change sign with the vector while l = 2 ones are even, so every invariant the network forms (products
  // within the same l) is unchanged: ViSNet is E(3)- not SE(3)-invariant and cannot tell enantiomers apart.
  // Energies are invariant, forces and the l = 1 block of v transform with the full orthogonal matrix.
  const auto rotation = random_rotation();
  const auto reflection = torch::matmul(rotation, torch::diag(torch::tensor({-1.0, 1.0, 1.0}, kF64)));
  for (const auto& q : {rotation, reflection}) {
    const auto moved =
        (torch::matmul(pos.detach(), q.t()) + torch::tensor({1.5, -2.0, 0.7}, kF64)).requires_grad_();
    const auto gm = build_graph(moved, s.z, s.batch, 1, cfg.cutoff);
    ASSERT_TRUE(torch::equal(gm.edge_src, g.edge_src));
    const auto out = model->energy_and_forces(gm, false);
    const auto fm = model->backbone()->forward(gm);
    EXPECT_LE(rel_error(out.energy, ref.energy), 1e-9);
    EXPECT_LE(rel_error(out.forces, torch::matmul(ref.forces, q.t())), 1e-9);
    EXPECT_LE(rel_error(fm.x, feat.x), 1e-9);
    const auto l1 = feat.v.slice(1, 0, 3);
    EXPECT_LE(rel_error(fm.v.slice(1, 0, 3), torch::matmul(q, l1)), 1e-9);
  }
}

TEST_P(ViSNetSymmetry, AtomPermutationPermutesOutputs) {
  torch::manual_seed(12);
  const auto cfg = test_config(GetParam());
  EnergyModel model(cfg);
  model->to(torch::kFloat64);
  perturb(*model, 0.05);
  const auto s = sample(12, 1);
  const auto pos = grid_positions(1).requires_grad_(true);
  const auto ref = model->energy_and_forces(build_graph(pos, s.z, s.batch, 1, cfg.cutoff), false);
  const auto perm = torch::randperm(12, torch::kLong);
  const auto pp = pos.detach().index_select(0, perm).requires_grad_(true);
  const auto gp = build_graph(pp, s.z.index_select(0, perm), s.batch, 1, cfg.cutoff);
  const auto out = model->energy_and_forces(gp, false);
  EXPECT_LE(rel_error(out.energy, ref.energy), 1e-9);
  EXPECT_LE(rel_error(out.forces, ref.forces.index_select(0, perm)), 1e-9);
  const auto atoms = model->atom_energies(build_graph(pos.detach(), s.z, s.batch, 1, cfg.cutoff));
  EXPECT_LE(rel_error(model->atom_energies(gp), atoms.index_select(0, perm)), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(ViSNet, ViSNetSymmetry, ::testing::Values(1, 2));

TEST(ViSNetEdgeUpdate, RejectionProductMatchesPlainFormula) {
  torch::manual_seed(21);
  for (const std::int64_t lmax : {1, 2}) {
    const auto m = (lmax + 1) * (lmax + 1) - 1;
    const auto y = spherical_harmonics(
        torch::nn::functional::normalize(torch::randn({50, 3}, kF64),
                                         torch::nn::functional::NormalizeFuncOptions().dim(1)),
        lmax);
    const auto a = torch::randn({50, m, 16}, kF64);
    const auto b = torch::randn({50, m, 16}, kF64);
    const auto fast = rejection_product(a, b, y);
    const auto plain = rejection_product_reference(a, b, y);
    EXPECT_LT((fast - plain).abs().max().item<double>(), 1e-12 * plain.abs().max().item<double>()) << lmax;
  }
}

TEST(ViSNetInference, EdgeBlocksEqualOneBlock) {
  // Without autograd the layers process edges in blocks (bounded memory on large graphs); the sums
  // are the same up to rounding, whatever the block size, for lmax 1 and 2.
  for (const std::int64_t lmax : {1, 2}) {
    torch::manual_seed(22);
    ViSNet model(test_config(lmax));
    model->to(torch::kFloat64);
    perturb(*model, 0.1);
    const auto s = sample(24, 2);
    const auto graph = build_graph(grid_positions(2), s.z, s.batch, 2, 4.0);
    const auto reference = model->forward(graph);  // autograd on: one block
    torch::NoGradGuard no_grad;
    for (const std::int64_t edges_per_block : {1, 7, 1000}) {
      model->set_inference_block_elements(edges_per_block * test_config(lmax).vector_components() *
                                          test_config(lmax).hidden);
      const auto blocked = model->forward(graph);
      EXPECT_LT(rel_error(blocked.x, reference.x), 1e-12) << lmax << " " << edges_per_block;
      EXPECT_LT(rel_error(blocked.v, reference.v), 1e-12) << lmax << " " << edges_per_block;
    }
  }
}

TEST(ViSNetForces, MatchCentralFiniteDifferences) {
  torch::manual_seed(13);
  const auto cfg = test_config(2);
  EnergyModel model(cfg);
  model->to(torch::kFloat64);
  perturb(*model, 0.05);
  const auto s = sample(24, 2);  // two graphs in one batch
  const auto pos = grid_positions(2).requires_grad_(true);
  auto g = build_graph(pos, s.z, s.batch, 2, cfg.cutoff);
  const auto forces = model->energy_and_forces(g, false).forces;

  torch::NoGradGuard no_grad;
  const double h = 1e-5;
  auto fd = torch::zeros_like(forces);
  auto p = pos.detach().clone();
  g.positions = p;  // the edge list stays fixed while atoms move by h
  for (std::int64_t i = 0; i < p.size(0); ++i) {
    for (std::int64_t k = 0; k < 3; ++k) {
      const double x0 = p[i][k].item<double>();
      p[i][k] = x0 + h;
      const double ep = model->forward(g).sum().item<double>();
      p[i][k] = x0 - h;
      const double em = model->forward(g).sum().item<double>();
      p[i][k] = x0;
      fd[i][k] = -(ep - em) / (2 * h);
    }
  }
  EXPECT_LE(rel_error(forces, fd), 1e-5);
}

TEST(ViSNetEnergy, BatchingStandardizationAndResidues) {
  torch::manual_seed(14);
  const auto cfg = test_config(2);
  EnergyModel model(cfg);
  model->to(torch::kFloat64);
  perturb(*model, 0.05);
  model->set_standardization(-3.0, 2.5);
  const auto s = sample(24, 2);
  const auto pos = grid_positions(2);
  const auto both = model->forward(build_graph(pos, s.z, s.batch, 2, cfg.cutoff));
  ASSERT_EQ(both.size(0), 2);
  for (std::int64_t b = 0; b < 2; ++b) {
    const auto rows = torch::arange(12 * b, 12 * (b + 1), torch::kLong);
    const auto one = model->forward(build_graph(pos.index_select(0, rows), s.z.index_select(0, rows),
                                                torch::zeros({12}, torch::kLong), 1, cfg.cutoff));
    EXPECT_NEAR(one.item<double>(), both[b].item<double>(), 1e-10);
  }
  // Residues of 3 atoms: their energies add up to the graph energies minus the per-graph mean.
  const auto residue = torch::arange(24, torch::kLong).floor_divide(3);
  const auto per_residue = model->residue_energies(build_graph(pos, s.z, s.batch, 2, cfg.cutoff), residue, 8);
  EXPECT_NEAR(per_residue.sum().item<double>(), (both + 3.0).sum().item<double>(), 1e-10);
}

TEST(ViSNetTraining, ForceLossDoubleBackwardReachesParameters) {
  torch::manual_seed(15);
  auto cfg = test_config(2);
  cfg.layers = 3;          // so that one layer with a live edge update exists (layer 1)
  EnergyModel model(cfg);  // default init: xavier weights, zero biases
  model->to(torch::kFloat64);
  const auto s = sample(13, 1);
  // Atom 12 is isolated: its v stays 0, exercising the zero-safe norm in the head under double backward.
  const auto pos =
      torch::cat({grid_positions(1).slice(0, 0, 12), torch::full({1, 3}, 40.0, kF64)}).requires_grad_(true);
  const auto out = model->energy_and_forces(build_graph(pos, s.z, s.batch, 1, cfg.cutoff), true);
  const auto loss = (out.forces - torch::randn_like(out.forces)).pow(2).mean();
  loss.backward();

  // Parameters that legitimately get no (or an exactly zero) gradient from a force-only loss:
  //  - head.block2.update_out.bias: a constant energy offset, gone from dE/dpos;
  //  - head.block2.vec2_proj.weight: the head's final vector output is unused for a scalar target;
  //  - layer0 vec_proj / w_src_proj / w_trg_proj: their input v is still exactly 0 in the first layer;
  //  - layer0 f_proj: it multiplies the layer-0 edge update, which is 0 because w1 = w2 = 0 there.
  // The buffers (mean, std, RBF means/betas) are not parameters and never require grad.
  const std::set<std::string> no_grad{
      "head.block2.update_out.bias",       "head.block2.vec2_proj.weight",
      "backbone.layer0.vec_proj.weight",   "backbone.layer0.w_src_proj.weight",
      "backbone.layer0.w_trg_proj.weight", "backbone.layer0.f_proj.weight",
      "backbone.layer0.f_proj.bias"};
  for (const auto& p : model->named_parameters()) {
    const auto& grad = p.value().grad();
    if (no_grad.count(p.key()) != 0) {
      EXPECT_TRUE(!grad.defined() || grad.abs().max().item<double>() == 0.0) << p.key();
      continue;
    }
    ASSERT_TRUE(grad.defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << p.key();
    EXPECT_GT(grad.abs().max().item<double>(), 0.0) << p.key();
  }
  for (const auto& b : model->named_buffers()) EXPECT_FALSE(b.value().requires_grad()) << b.key();
  EXPECT_TRUE(torch::isfinite(out.forces).all().item<bool>());
  EXPECT_EQ(out.forces[12].abs().max().item<double>(), 0.0) << "an isolated atom feels no force";
}

}  // namespace
}  // namespace hemeplm::model
