// Hierarchical pooling residue -> domain -> protein with learned queries (model-spec.md (f)), hard
// domain map only. The domain softmax is exposed as partial sums so that residues spread over ranks
// (fragments, halos) can be pooled exactly: each rank calls partial_sums on its residues, the sums
// are completed outside the module (MPI all-reduce in the sampler; combine() here), then finish().
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "hemeplm/model/config.hpp"

namespace hemeplm::model {

/// Softmax partials of the domain attention per (graph, domain, head), shifted by `max`:
/// sum_exp = sum_r exp(l_r - max), weighted = sum_r exp(l_r - max) V_r. Empty segments have
/// max = -inf and zero sums. The max is detached (the softmax does not depend on it).
struct PoolingPartials {
  torch::Tensor max;       ///< [B, K, heads]
  torch::Tensor sum_exp;   ///< [B, K, heads]
  torch::Tensor weighted;  ///< [B, K, heads, d]
};

/// Log-sum-exp merge of two partials over disjoint residue sets (order-independent).
PoolingPartials combine(const PoolingPartials& a, const PoolingPartials& b);

struct PooledTokens {
  torch::Tensor domain_tokens;  ///< [B, K, H] g_k; zero for a domain with no residues
  torch::Tensor domain_mask;    ///< [B, K] bool, true where the domain has residues
  torch::Tensor protein;        ///< [B, H] p; zero for a graph with no pooled residues
};

/// 2 (4H^2 + 4H) + (K + 1) H + 4H parameters: two attention poolings, K + 1 queries, two LayerNorms.
class HierarchicalPoolingImpl : public torch::nn::Module {
 public:
  explicit HierarchicalPoolingImpl(const PoolingOptions& options = {});

  void reset_parameters();

  /// h_r: [R, H] residue tokens (any subset of the residues); domain: [R] int64 in [0, K) or -1 for
  /// residues not pooled; graph: [R] int64 graph of each residue. If `shift` ([B, K, heads]) is given,
  /// e.g. the MPI_MAX all-reduce of the local maxima, it is used as max so that partials of
  /// different ranks can simply be summed (MPI_SUM); otherwise the local max is used.
  PoolingPartials partial_sums(const torch::Tensor& h_r, const torch::Tensor& domain,
                               const torch::Tensor& graph, std::int64_t graph_count,
                               const torch::Tensor& shift = {});

  /// Domain tokens from complete partials, then the protein token from the domain tokens.
  PooledTokens finish(const PoolingPartials& partials);

  /// partial_sums + finish for residues that are all local.
  PooledTokens forward(const torch::Tensor& h_r, const torch::Tensor& domain, const torch::Tensor& graph,
                       std::int64_t graph_count);

  const PoolingOptions& options() const { return options_; }

 private:
  PoolingOptions options_;
  torch::Tensor domain_queries_;  // [K, H]
  torch::Tensor protein_query_;   // [H]
  torch::nn::LayerNorm residue_norm_{nullptr}, domain_norm_{nullptr};
  torch::nn::Linear domain_q_{nullptr}, domain_k_{nullptr}, domain_v_{nullptr}, domain_o_{nullptr};
  torch::nn::Linear protein_q_{nullptr}, protein_k_{nullptr}, protein_v_{nullptr}, protein_o_{nullptr};
};
TORCH_MODULE(HierarchicalPooling);

}  // namespace hemeplm::model
