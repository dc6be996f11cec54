// The decomposed path of the cross-attention: residues split into shares whose ligand -> residue
// partials are completed outside the module must give forward()'s result (float64), whatever the
// split, also with a share that holds no residue.
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <algorithm>
#include <vector>

#include "hemeplm/model/cross_attention.hpp"

namespace hemeplm::model {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kI64 = torch::TensorOptions().dtype(torch::kInt64);

double max_relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-300);
}

TokenSet rows(const TokenSet& set, std::int64_t first, std::int64_t count) {
  return {set.h.narrow(0, first, count), set.x.narrow(0, first, count), set.graph.narrow(0, first, count),
          set.positioned.defined() ? set.positioned.narrow(0, first, count) : torch::Tensor()};
}

struct Case {
  TokenSet ligand, residues, extra;
  torch::Tensor c;
};

Case one_graph(std::int64_t hidden, std::int64_t time_dim) {
  Case s;
  s.ligand = {torch::randn({6, hidden}, kF64), 4 * torch::randn({6, 3}, kF64), torch::zeros({6}, kI64), {}};
  s.residues = {
      torch::randn({13, hidden}, kF64), 8 * torch::randn({13, 3}, kF64), torch::zeros({13}, kI64), {}};
  // Two unpositioned pooled tokens, as pooled_key_tokens gives them.
  s.extra = {torch::randn({2, hidden}, kF64), torch::zeros({2, 3}, kF64), torch::zeros({2}, kI64),
             torch::zeros({2}, torch::TensorOptions().dtype(torch::kBool))};
  s.c = torch::randn({1, time_dim}, kF64);
  return s;
}

TEST(CrossAttentionPartial, SharesCompletedByReducerMatchForward) {
  torch::manual_seed(11);
  CrossAttentionBlock block(CrossAttentionOptions{32, 16, 4, true, false});
  block->to(torch::kFloat64);
  const auto s = one_graph(32, 16);
  const auto whole = block->forward(s.ligand, s.residues, s.c, 1, s.extra);

  // Three "ranks": residues [0, 5), [5, 5) (none) and [5, 13); the pooled keys live on the first.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shares = {{0, 5}, {5, 0}, {5, 8}};
  std::vector<AttentionPartials> partials(shares.size());
  // Each share records its partials; the reducer of the last call combines all of them. Shares are
  // evaluated in two passes: first to collect partials, then to finish with the complete sums.
  for (int pass = 0; pass < 2; ++pass) {
    torch::Tensor ligand_h;
    std::vector<torch::Tensor> residue_h;
    for (std::size_t r = 0; r < shares.size(); ++r) {
      const auto mine = rows(s.residues, shares[r].first, shares[r].second);
      const TokenSet extra = r == 0 ? s.extra : TokenSet{};
      const auto out = block->forward_partial(s.ligand, mine, s.c, 1, extra, [&](const AttentionPartials& p) {
        if (pass == 0) {
          partials[r] = p;
          return p;
        }
        auto complete = partials[0];
        for (std::size_t k = 1; k < partials.size(); ++k) complete = combine_partials(complete, partials[k]);
        return complete;
      });
      if (pass == 1) {
        if (ligand_h.defined()) {
          EXPECT_LT(max_relative(out.ligand, ligand_h), 1e-15);  // same on every rank
        }
        ligand_h = out.ligand;
        if (shares[r].second > 0) residue_h.push_back(out.residues);
      }
    }
    if (pass == 1) {
      EXPECT_LT(max_relative(ligand_h, whole.ligand), 1e-12);
      EXPECT_LT(max_relative(torch::cat(residue_h), whole.residues), 1e-12);
    }
  }
}

TEST(CrossAttentionPartial, RescaleThenSumEqualsCombine) {
  torch::manual_seed(12);
  CrossAttentionSubBlock sub(CrossAttentionOptions{16, 8, 2, true, false});
  sub->to(torch::kFloat64);
  const auto s = one_graph(16, 8);
  const auto a = sub->attention_partials(s.ligand, rows(s.residues, 0, 4), s.c, 1);
  const auto b = sub->attention_partials(s.ligand, rows(s.residues, 4, 9), s.c, 1);
  const auto all = sub->attention_partials(s.ligand, s.residues, s.c, 1);
  // What ranks do: MPI_MAX of max, rescale, MPI_SUM.
  const auto max = torch::maximum(a.max, b.max);
  const auto ra = rescale_partials(a, max), rb = rescale_partials(b, max);
  EXPECT_LT(max_relative(ra.sum_exp + rb.sum_exp, all.sum_exp), 1e-13);
  EXPECT_LT(max_relative(ra.weighted + rb.weighted, all.weighted), 1e-13);
  EXPECT_TRUE(torch::equal(max, all.max));
  // A share with no keys contributes nothing and its max is -inf.
  const auto none = sub->attention_partials(s.ligand, rows(s.residues, 0, 0), s.c, 1);
  EXPECT_TRUE(none.max.isinf().all().item<bool>());
  const auto merged = combine_partials(all, none);
  EXPECT_LT(max_relative(merged.weighted, all.weighted), 1e-15);
  EXPECT_LT(
      max_relative(sub->finish_attention(s.ligand, all, s.c), sub->forward(s.ligand, s.residues, s.c, 1).h),
      1e-12);
}

TEST(CrossAttentionPartial, CoordinateChannelIsRefusedOnTheDecomposedPath) {
  CrossAttentionBlock block(CrossAttentionOptions{16, 8, 2, true, true});
  const auto s = one_graph(16, 8);
  block->to(torch::kFloat64);
  EXPECT_ANY_THROW(block->forward_partial(s.ligand, s.residues, s.c, 1, {}, {}));
}

}  // namespace
}  // namespace hemeplm::model
