// Hierarchical pooling: parameter count against model-spec.md (f) and exact completion of the domain
// softmax from partial residue sets (what an MPI all-reduce over ranks does in the sampler).
#include "hemeplm/model/pooling.hpp"

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <string>

namespace hemeplm::model {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kI64 = torch::TensorOptions().dtype(torch::kInt64);

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

struct Residues {
  torch::Tensor h, domain, graph;
};

// Two graphs of 40 and 30 residues, domains 0..4 and 0..2 with some residues unpooled (-1); domains
// 5..7 are empty everywhere. Tokens are scaled up so that the logits span a wide range.
Residues two_proteins(std::int64_t hidden) {
  const auto graph = torch::cat({torch::zeros({40}, kI64), torch::ones({30}, kI64)});
  auto domain = torch::cat({torch::randint(-1, 5, {40}, kI64), torch::randint(-1, 3, {30}, kI64)});
  return {8 * torch::randn({70, hidden}, kF64), domain, graph};
}

HierarchicalPooling make_pooling(std::int64_t hidden) {
  HierarchicalPooling pooling(PoolingOptions{hidden, 8, 4});
  pooling->to(torch::kFloat64);
  return pooling;
}

void expect_same_tokens(const PooledTokens& a, const PooledTokens& b, double tolerance) {
  EXPECT_TRUE(torch::equal(a.domain_mask, b.domain_mask));
  EXPECT_LE(max_abs(a.domain_tokens, b.domain_tokens), tolerance);
  EXPECT_LE(max_abs(a.protein, b.protein), tolerance);
}

TEST(Pooling, ParameterCountMatchesSpec) {
  const std::int64_t h = 256, k = 8;
  HierarchicalPooling pooling;
  std::int64_t total = 0;
  for (const auto& p : pooling->parameters()) total += p.numel();
  EXPECT_EQ(total, 2 * (4 * h * h + 4 * h) + (k + 1) * h + 4 * h);
  EXPECT_EQ(total, 529664);
}

TEST(Pooling, PartialSumsOfHalvesCombineToWhole) {
  torch::manual_seed(5);
  auto pooling = make_pooling(32);
  const auto r = two_proteins(32);
  const auto whole = pooling(r.h, r.domain, r.graph, 2);

  // Random split into two halves, as two ranks would hold them.
  const auto perm = torch::randperm(70, kI64);
  const auto pick = [&](std::int64_t start, std::int64_t n, const torch::Tensor& shift) {
    const auto idx = perm.narrow(0, start, n);
    return pooling->partial_sums(r.h.index_select(0, idx), r.domain.index_select(0, idx),
                                 r.graph.index_select(0, idx), 2, shift);
  };
  const auto first = pick(0, 35, {});
  const auto second = pick(35, 35, {});
  expect_same_tokens(pooling->finish(combine(first, second)), whole, 1e-12);
  expect_same_tokens(pooling->finish(combine(second, first)), whole, 1e-12);

  // Two-pass form for MPI: all-reduce MAX of the local maxima, then plain SUM of the shifted partials.
  const auto global_max = torch::maximum(first.max, second.max);
  const auto a = pick(0, 35, global_max);
  const auto b = pick(35, 35, global_max);
  const PoolingPartials summed{global_max, a.sum_exp + b.sum_exp, a.weighted + b.weighted};
  expect_same_tokens(pooling->finish(summed), whole, 1e-12);
}

// Plain reference for one domain token: select the residues of (graph, domain), ordinary softmax.
torch::Tensor naive_domain_token(HierarchicalPooling& pooling, const Residues& r, std::int64_t graph,
                                 std::int64_t domain) {
  auto params = pooling->named_parameters();
  const auto linear = [&](const std::string& name, const torch::Tensor& x) {
    return x.matmul(params[name + ".weight"].t()) + params[name + ".bias"];
  };
  const std::int64_t heads = pooling->options().heads, d = pooling->options().hidden / heads;
  const auto idx = (r.graph.eq(graph) & r.domain.eq(domain)).nonzero().squeeze(1);
  const auto h = torch::layer_norm(r.h.index_select(0, idx), {pooling->options().hidden},
                                   params["residue_norm.weight"], params["residue_norm.bias"]);
  const auto q = linear("domain_q", params["domain_queries"][domain]).view({heads, d});
  const auto k = linear("domain_k", h).view({-1, heads, d});
  const auto v = linear("domain_v", h).view({-1, heads, d});
  const auto alpha = torch::softmax((k * q).sum(-1) / std::sqrt(static_cast<double>(d)), 0);
  return linear("domain_o", (alpha.unsqueeze(-1) * v).sum(0).reshape({-1}));
}

TEST(Pooling, DomainTokensMatchNaiveSoftmax) {
  torch::manual_seed(8);
  auto pooling = make_pooling(32);
  const auto r = two_proteins(32);
  const auto whole = pooling(r.h, r.domain, r.graph, 2);
  for (std::int64_t k = 0; k < 3; ++k) {
    EXPECT_LE(max_abs(whole.domain_tokens[0][k], naive_domain_token(pooling, r, 0, k)), 1e-12);
    EXPECT_LE(max_abs(whole.domain_tokens[1][k], naive_domain_token(pooling, r, 1, k)), 1e-12);
  }
}

TEST(Pooling, RespectsHardDomainMapAndBatching) {
  torch::manual_seed(6);
  auto pooling = make_pooling(32);
  const auto r = two_proteins(32);
  const auto whole = pooling(r.h, r.domain, r.graph, 2);
  EXPECT_TRUE(whole.domain_mask.narrow(1, 5, 3).logical_not().all().item<bool>());
  EXPECT_TRUE(torch::equal(whole.domain_tokens.narrow(1, 5, 3), torch::zeros({2, 3, 32}, kF64)));

  // Changing an unpooled residue changes nothing; graph 1 alone gives the same tokens as batched.
  auto h = r.h.clone();
  const auto unpooled = r.domain.eq(-1).nonzero().squeeze(1);
  ASSERT_GT(unpooled.numel(), 0);
  h.index_fill_(0, unpooled, 100.0);
  expect_same_tokens(pooling(h, r.domain, r.graph, 2), whole, 0.0);
  const auto alone = pooling(r.h.narrow(0, 40, 30), r.domain.narrow(0, 40, 30), torch::zeros({30}, kI64), 1);
  EXPECT_LE(max_abs(alone.domain_tokens[0], whole.domain_tokens[1]), 1e-12);
  EXPECT_LE(max_abs(alone.protein[0], whole.protein[1]), 1e-12);
}

TEST(Pooling, GraphWithoutPooledResiduesGivesZerosNotNaN) {
  torch::manual_seed(7);
  auto pooling = make_pooling(32);
  const auto h = torch::randn({4, 32}, kF64).set_requires_grad(true);
  const auto out = pooling(h, torch::tensor({0, 1, -1, -1}, kI64), torch::tensor({0, 0, 1, 1}, kI64), 2);
  EXPECT_FALSE(out.domain_tokens.isnan().any().item<bool>());
  EXPECT_FALSE(out.protein.isnan().any().item<bool>());
  EXPECT_TRUE(torch::equal(out.protein[1], torch::zeros({32}, kF64)));
  out.protein.sum().backward();
  EXPECT_FALSE(h.grad().isnan().any().item<bool>());
}

}  // namespace
}  // namespace hemeplm::model
