#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "hemeplm/model/pooling.hpp"

namespace hemeplm::model {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A -inf max marks an empty segment; shifting by 0 there keeps exp(-inf - 0) = 0 instead of NaN.
torch::Tensor finite_shift(const torch::Tensor& max) {
  return max.masked_fill(max.isinf(), 0.0);
}

}  // namespace

PoolingPartials combine(const PoolingPartials& a, const PoolingPartials& b) {
  const auto max = torch::maximum(a.max, b.max);
  const auto reference = finite_shift(max);
  const auto scale_a = torch::exp(a.max - reference);
  const auto scale_b = torch::exp(b.max - reference);
  return {max, a.sum_exp * scale_a + b.sum_exp * scale_b,
          a.weighted * scale_a.unsqueeze(-1) + b.weighted * scale_b.unsqueeze(-1)};
}

HierarchicalPoolingImpl::HierarchicalPoolingImpl(const PoolingOptions& options) : options_(options) {
  const std::int64_t h = options.hidden;
  if (options.heads <= 0 || h % options.heads != 0 || options.domains <= 0) {
    throw std::invalid_argument("HierarchicalPooling: hidden must be a multiple of heads, domains > 0");
  }
  domain_queries_ = register_parameter("domain_queries", torch::empty({options.domains, h}));
  protein_query_ = register_parameter("protein_query", torch::empty({h}));
  residue_norm_ = register_module("residue_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
  domain_norm_ = register_module("domain_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
  domain_q_ = register_module("domain_q", torch::nn::Linear(h, h));
  domain_k_ = register_module("domain_k", torch::nn::Linear(h, h));
  domain_v_ = register_module("domain_v", torch::nn::Linear(h, h));
  domain_o_ = register_module("domain_o", torch::nn::Linear(h, h));
  protein_q_ = register_module("protein_q", torch::nn::Linear(h, h));
  protein_k_ = register_module("protein_k", torch::nn::Linear(h, h));
  protein_v_ = register_module("protein_v", torch::nn::Linear(h, h));
  protein_o_ = register_module("protein_o", torch::nn::Linear(h, h));
  reset_parameters();
}

void HierarchicalPoolingImpl::reset_parameters() {
  {
    // Queries like embedding rows, N(0, 1): they pass through W_q before meeting LN'd keys.
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(domain_queries_);
    torch::nn::init::normal_(protein_query_);
  }
  residue_norm_->reset_parameters();
  domain_norm_->reset_parameters();
  for (auto* linear :
       {&domain_q_, &domain_k_, &domain_v_, &domain_o_, &protein_q_, &protein_k_, &protein_v_, &protein_o_}) {
    (*linear)->reset_parameters();
  }
}

PoolingPartials HierarchicalPoolingImpl::partial_sums(const torch::Tensor& h_r, const torch::Tensor& domain,
                                                      const torch::Tensor& graph, std::int64_t graph_count,
                                                      const torch::Tensor& shift) {
  const std::int64_t k_count = options_.domains, heads = options_.heads, d = options_.hidden / heads;
  const std::int64_t segments = graph_count * k_count;

  // Residues with domain -1 are not pooled at all.
  const auto pooled = domain.ge(0).nonzero().squeeze(1);
  const auto dom = domain.index_select(0, pooled);
  const auto segment = graph.index_select(0, pooled) * k_count + dom;
  const auto h = residue_norm_(h_r.index_select(0, pooled));

  // Hard map: each residue is scored only against the query of its own domain.
  const auto q = domain_q_(domain_queries_).view({k_count, heads, d});
  const auto k = domain_k_(h).view({-1, heads, d});
  const auto v = domain_v_(h).view({-1, heads, d});
  const auto logits = (q.index_select(0, dom) * k).sum(-1) / std::sqrt(static_cast<double>(d));  // [n, heads]

  torch::Tensor max;
  if (shift.defined()) {
    max = shift.reshape({segments, heads}).detach();
  } else {
    max = torch::full({segments, heads}, -kInf, logits.options())
              .scatter_reduce(0, segment.unsqueeze(1).expand({-1, heads}), logits.detach(), "amax", true);
  }
  const auto e = torch::exp(logits - finite_shift(max).index_select(0, segment));
  const auto sum_exp = torch::zeros({segments, heads}, logits.options()).index_add(0, segment, e);
  const auto weighted =
      torch::zeros({segments, heads, d}, logits.options()).index_add(0, segment, e.unsqueeze(-1) * v);
  return {max.view({graph_count, k_count, heads}), sum_exp.view({graph_count, k_count, heads}),
          weighted.view({graph_count, k_count, heads, d})};
}

PooledTokens HierarchicalPoolingImpl::finish(const PoolingPartials& partials) {
  const std::int64_t hidden = options_.hidden, heads = options_.heads, d = hidden / heads;
  const std::int64_t b = partials.sum_exp.size(0), k_count = options_.domains;

  // g_k = W_o (sum_r alpha_r V_r); a domain without residues gives a zero token and is masked below.
  const auto present = partials.sum_exp.gt(0).any(-1);  // [B, K]
  const auto denominator = partials.sum_exp.masked_fill(partials.sum_exp.le(0), 1.0).unsqueeze(-1);
  const auto attended = (partials.weighted / denominator).reshape({b, k_count, hidden});
  const auto g = domain_o_(attended) * present.unsqueeze(-1).to(attended.scalar_type());

  // p = MHA(q_p, LN(g), LN(g)) over the present domains; a graph with none gives p = 0, not NaN.
  const auto g_norm = domain_norm_(g);
  const auto q = protein_q_(protein_query_).view({1, 1, heads, d});
  const auto k = protein_k_(g_norm).view({b, k_count, heads, d});
  const auto v = protein_v_(g_norm).view({b, k_count, heads, d});
  const auto any_domain = present.any(1);
  auto logits = (q * k).sum(-1) / std::sqrt(static_cast<double>(d));  // [B, K, heads]
  logits = logits.masked_fill(present.logical_not().unsqueeze(-1), -kInf)
               .masked_fill(any_domain.logical_not().view({b, 1, 1}), 0.0);
  const auto alpha = torch::softmax(logits, 1) * present.unsqueeze(-1).to(logits.scalar_type());
  const auto pooled = (alpha.unsqueeze(-1) * v).sum(1).reshape({b, hidden});
  const auto p = protein_o_(pooled) * any_domain.unsqueeze(-1).to(pooled.scalar_type());
  return {g, present, p};
}

PooledTokens HierarchicalPoolingImpl::forward(const torch::Tensor& h_r, const torch::Tensor& domain,
                                              const torch::Tensor& graph, std::int64_t graph_count) {
  return finish(partial_sums(h_r, domain, graph, graph_count));
}

}  // namespace hemeplm::model
