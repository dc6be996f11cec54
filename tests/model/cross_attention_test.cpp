// Time embedding, residue tokens and cross-attention: parameter counts against model-spec.md (b),
// symmetry in float64, masks and batching.
#include "hemeplm/model/cross_attention.hpp"

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "hemeplm/model/time_embedding.hpp"

namespace hemeplm::model {
namespace {

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

double max_relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-300);
}

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kI64 = torch::TensorOptions().dtype(torch::kInt64);

// Rotation about a unit axis (Rodrigues) times a reflection: an improper orthogonal matrix, which
// distance-only logits and relative-vector updates must respect as well.
torch::Tensor improper_rotation() {
  const double angle = 1.234;
  const auto axis = torch::tensor({0.3, -0.5, 0.81}, kF64);
  const auto n = axis / axis.norm();
  const auto kx = torch::zeros({3, 3}, kF64);
  kx[0][1] = -n[2];
  kx[0][2] = n[1];
  kx[1][0] = n[2];
  kx[1][2] = -n[0];
  kx[2][0] = -n[1];
  kx[2][1] = n[0];
  const auto r = torch::eye(3, kF64) + std::sin(angle) * kx + (1 - std::cos(angle)) * kx.matmul(kx);
  return r.matmul(torch::diag(torch::tensor({1.0, 1.0, -1.0}, kF64)));
}

struct System {
  TokenSet ligand, residues;
  torch::Tensor c;
  std::int64_t graphs;
};

// Two graphs: 5 ligand atoms + 7 residues, and 3 ligand atoms + 4 residues, positions in ~10 Å.
System two_graphs(std::int64_t hidden, std::int64_t time_dim) {
  System s;
  s.ligand = {torch::randn({8, hidden}, kF64),
              5 * torch::randn({8, 3}, kF64),
              torch::tensor({0, 0, 0, 0, 0, 1, 1, 1}, kI64),
              {}};
  s.residues = {torch::randn({11, hidden}, kF64),
                5 * torch::randn({11, 3}, kF64),
                torch::tensor({0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, kI64),
                {}};
  s.c = torch::randn({2, time_dim}, kF64);
  s.graphs = 2;
  return s;
}

TEST(TimeEmbedding, ParameterCountAndValues) {
  DiffusionTimeMLP mlp;
  EXPECT_EQ(count_parameters(*mlp), 525568);
  const auto emb = SinusoidalEmbedding(256)(torch::tensor({0, 500}, kI64));
  ASSERT_EQ(emb.sizes(), (std::vector<std::int64_t>{2, 256}));
  EXPECT_DOUBLE_EQ(emb[0][0].item<double>(), 0.0);    // sin(0)
  EXPECT_DOUBLE_EQ(emb[0][128].item<double>(), 1.0);  // cos(0)
  EXPECT_NEAR(emb[1][0].item<double>(), std::sin(500.0), 1e-12);
  mlp->to(torch::kFloat64);
  EXPECT_EQ(mlp(torch::tensor({3, 7, 900}, kI64)).sizes(), (std::vector<std::int64_t>{3, 256}));
}

TEST(CrossAttention, ParameterCountsMatchSpec) {
  const std::int64_t h = 256;
  CrossAttentionOptions plain;
  plain.distance_bias = false;
  EXPECT_EQ(count_parameters(*CrossAttentionSubBlock(plain)), 16 * h * h + 13 * h);
  EXPECT_EQ(16 * h * h + 13 * h, 1051904);
  // The spec formula leaves out the per-head softplus weights and the coordinate channel's phi_x.
  CrossAttentionOptions full;
  full.coordinate_channel = true;
  EXPECT_EQ(count_parameters(*CrossAttentionSubBlock(full)), 1051904 + 8 + (h + 1));
  EXPECT_EQ(count_parameters(*CrossAttentionBlock(plain)), 2 * 1051904);
  EXPECT_EQ(count_parameters(*ResidueTokens(h)), 71168);
}

TEST(CrossAttention, ResidueTokensAreTypeEmbeddingPlusProjectedMean) {
  torch::manual_seed(1);
  ResidueTokens tokens(16);
  tokens->to(torch::kFloat64);
  const auto scalars = torch::randn({6, 16}, kF64);
  const auto atom_residue = torch::tensor({0, 0, 2, -1, 2, 2}, kI64);
  const auto types = torch::tensor({3, 20, 7}, kI64);
  const auto h = tokens(scalars, atom_residue, types);
  const auto zero = tokens(torch::zeros({6, 16}, kF64), atom_residue, types);
  const auto proj = [&](const torch::Tensor& mean) {
    const auto one = torch::tensor({0}, kI64);
    return tokens(mean.unsqueeze(0), one, one)[0] - tokens(torch::zeros({1, 16}, kF64), one, one)[0];
  };
  EXPECT_LE(max_relative(h[0] - zero[0], proj((scalars[0] + scalars[1]) / 2)), 1e-12);
  EXPECT_LE(max_relative(h[2] - zero[2], proj((scalars[2] + scalars[4] + scalars[5]) / 3)), 1e-12);
  EXPECT_LE(max_relative(h[1], zero[1]), 0.0);  // no atoms: embedding + bias only
  const auto anchors =
      ResidueTokensImpl::anchors(torch::arange(18, kF64).view({6, 3}), torch::tensor({1, 4}, kI64));
  EXPECT_DOUBLE_EQ(anchors[1][0].item<double>(), 12.0);
}

TEST(CrossAttention, ScalarsInvariantCoordinatesEquivariant) {
  torch::manual_seed(2);
  CrossAttentionOptions options{32, 16, 4, true, true};
  CrossAttentionBlock block(options);
  block->to(torch::kFloat64);
  auto s = two_graphs(32, 16);
  const auto ref = block(s.ligand, s.residues, s.c, s.graphs);

  const auto rot = improper_rotation();
  const auto shift = torch::tensor({3.0, -7.5, 12.25}, kF64);
  auto moved = s;
  moved.ligand.x = s.ligand.x.matmul(rot.t()) + shift;
  moved.residues.x = s.residues.x.matmul(rot.t()) + shift;
  const auto out = block(moved.ligand, moved.residues, moved.c, moved.graphs);

  EXPECT_LE(max_relative(out.ligand, ref.ligand), 1e-9);
  EXPECT_LE(max_relative(out.residues, ref.residues), 1e-9);
  ASSERT_TRUE(out.dx_ligand.defined());
  EXPECT_GT(ref.dx_ligand.abs().max().item<double>(), 1e-6);  // the check below is not vacuous
  EXPECT_LE(max_relative(out.dx_ligand, ref.dx_ligand.matmul(rot.t())), 1e-9);
}

TEST(CrossAttention, GraphWithoutLigandPassesThroughWithoutNaN) {
  torch::manual_seed(3);
  CrossAttentionOptions options{32, 16, 4, true, true};
  CrossAttentionBlock block(options);
  block->to(torch::kFloat64);
  auto s = two_graphs(32, 16);
  // Graph 1 loses its ligand atoms; graph 2 (no residues, no ligand) is empty altogether.
  s.ligand = {
      s.ligand.h.narrow(0, 0, 5).clone(), s.ligand.x.narrow(0, 0, 5), s.ligand.graph.narrow(0, 0, 5), {}};
  s.c = torch::randn({3, 16}, kF64);
  s.residues.h.set_requires_grad(true);
  const auto out = block(s.ligand, s.residues, s.c, 3);
  EXPECT_TRUE(torch::equal(out.residues.narrow(0, 7, 4), s.residues.h.narrow(0, 7, 4)));
  EXPECT_FALSE(torch::equal(out.residues.narrow(0, 0, 7), s.residues.h.narrow(0, 0, 7)));
  EXPECT_FALSE(out.residues.isnan().any().item<bool>());
  EXPECT_FALSE(out.ligand.isnan().any().item<bool>());
  (out.residues.sum() + out.ligand.sum() + out.dx_ligand.sum()).backward();
  EXPECT_FALSE(s.residues.h.grad().isnan().any().item<bool>());
  for (const auto& p : block->parameters()) EXPECT_FALSE(p.grad().isnan().any().item<bool>());
}

TEST(CrossAttention, BatchWithoutAnyLigandAndFloat32ModelWork) {
  torch::manual_seed(5);
  CrossAttentionOptions options{32, 16, 4, true, true};
  CrossAttentionBlock block(options);
  auto s = two_graphs(32, 16);
  const TokenSet none{torch::zeros({0, 32}, kF64), torch::zeros({0, 3}, kF64), torch::zeros({0}, kI64), {}};
  block->to(torch::kFloat64);
  const auto out = block(none, s.residues, s.c, 2);
  EXPECT_TRUE(torch::equal(out.residues, s.residues.h));
  EXPECT_EQ(out.ligand.size(0), 0);

  // float32 tokens and parameters with float64 positions, as the sampler keeps coordinates.
  block->to(torch::kFloat32);
  s.ligand.h = s.ligand.h.to(torch::kFloat32);
  s.residues.h = s.residues.h.to(torch::kFloat32);
  const auto mixed = block(s.ligand, s.residues, s.c.to(torch::kFloat32), 2);
  EXPECT_EQ(mixed.ligand.scalar_type(), torch::kFloat32);
  EXPECT_EQ(mixed.dx_ligand.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(mixed.residues.isnan().any().item<bool>());
}

// Spec (b) written out for one graph, from the named parameters: a plain reference for the sub-block.
SubBlockOutput naive_sub_block(CrossAttentionSubBlock& block, const TokenSet& q_set, const TokenSet& k_set,
                               const torch::Tensor& c) {
  auto params = block->named_parameters();
  const auto linear = [&](const std::string& name, const torch::Tensor& x) {
    return x.matmul(params[name + ".weight"].t()) + params[name + ".bias"];
  };
  const std::int64_t hidden = block->options().hidden, heads = block->options().heads, d = hidden / heads;
  const auto adaln = [&](const std::string& name, const torch::Tensor& h) {
    const auto gb = linear(name, c);
    return torch::layer_norm(h, {hidden}) * (1 + gb.narrow(0, 0, hidden)) + gb.narrow(0, hidden, hidden);
  };
  const auto q = linear("w_q", adaln("modulation_attention", q_set.h)).view({-1, 1, heads, d});
  const auto k = linear("w_k", torch::layer_norm(k_set.h, {hidden})).view({1, -1, heads, d});
  const auto v_tokens = linear("w_v", torch::layer_norm(k_set.h, {hidden}));
  const auto rel = q_set.x.unsqueeze(1) - k_set.x.unsqueeze(0);  // [A, R, 3]
  const auto dist2 = rel.pow(2).sum(-1, true);                   // [A, R, 1]
  const auto w = torch::softplus(params["distance_weight_raw"]);
  const auto alpha = torch::softmax((q * k).sum(-1) / std::sqrt(static_cast<double>(d)) - w * dist2, 1);
  const auto attended = (alpha.unsqueeze(-1) * v_tokens.view({1, -1, heads, d})).sum(1).reshape({-1, hidden});
  auto h = q_set.h + linear("w_o", attended);
  h = h + linear("ffn_out", torch::silu(linear("ffn_in", adaln("modulation_ffn", h))));
  const auto phi = linear("phi_x", v_tokens).view({1, -1, 1});
  const auto dx = (alpha.mean(-1, true) * rel * phi / (1 + dist2.sqrt())).sum(1);
  return {h, dx};
}

TEST(CrossAttention, SubBlockMatchesNaiveSpec) {
  torch::manual_seed(6);
  CrossAttentionSubBlock block(CrossAttentionOptions{32, 16, 4, true, true});
  block->to(torch::kFloat64);
  const auto s = two_graphs(32, 16);
  const TokenSet lig{s.ligand.h.narrow(0, 0, 5), s.ligand.x.narrow(0, 0, 5), torch::zeros({5}, kI64), {}};
  const TokenSet res{s.residues.h.narrow(0, 0, 7), s.residues.x.narrow(0, 0, 7), torch::zeros({7}, kI64), {}};
  const auto out = block(lig, res, s.c.narrow(0, 0, 1), 1);
  const auto ref = naive_sub_block(block, lig, res, s.c[0]);
  EXPECT_LE(max_relative(out.h, ref.h), 1e-12);
  EXPECT_LE(max_relative(out.dx, ref.dx), 1e-12);
}

TEST(CrossAttention, BatchedGraphsMatchEachAlone) {
  torch::manual_seed(4);
  CrossAttentionOptions options{32, 16, 4, true, true};
  CrossAttentionBlock block(options);
  block->to(torch::kFloat64);
  const auto s = two_graphs(32, 16);
  const auto both = block(s.ligand, s.residues, s.c, 2);
  const auto alone = [&](std::int64_t l0, std::int64_t ln, std::int64_t r0, std::int64_t rn, std::int64_t g) {
    const TokenSet lig{
        s.ligand.h.narrow(0, l0, ln), s.ligand.x.narrow(0, l0, ln), torch::zeros({ln}, kI64), {}};
    const TokenSet res{
        s.residues.h.narrow(0, r0, rn), s.residues.x.narrow(0, r0, rn), torch::zeros({rn}, kI64), {}};
    return block(lig, res, s.c.narrow(0, g, 1), 1);
  };
  const auto first = alone(0, 5, 0, 7, 0);
  const auto second = alone(5, 3, 7, 4, 1);
  EXPECT_LE(max_relative(torch::cat({first.ligand, second.ligand}), both.ligand), 1e-12);
  EXPECT_LE(max_relative(torch::cat({first.residues, second.residues}), both.residues), 1e-12);
  EXPECT_LE(max_relative(torch::cat({first.dx_ligand, second.dx_ligand}), both.dx_ligand), 1e-12);
}

}  // namespace
}  // namespace hemeplm::model
