#include "hemeplm/model/cross_attention.hpp"

#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "hemeplm/core/error.hpp"

namespace hemeplm::model {
namespace {

// Per-graph dense layout: slot[i] = graph[i] * width + (position of i inside its graph), so that one
// index_copy builds [B, width, F] blocks and one index_select takes them back. Padding never leaves
// this file; the public layout stays concatenated.
struct Padding {
  torch::Tensor slot;  // [n] int64
  torch::Tensor mask;  // [B, width] bool, true for real items
  std::int64_t width = 0;
};

Padding padding_for(const torch::Tensor& graph, std::int64_t graph_count) {
  const auto counts = torch::bincount(graph, {}, graph_count);
  Padding p;
  p.width = graph.numel() == 0 ? 0 : counts.max().item<std::int64_t>();
  const auto starts = counts.cumsum(0) - counts;
  const auto position = torch::arange(graph.numel(), graph.options()) - starts.index_select(0, graph);
  p.slot = graph * p.width + position;
  p.mask = torch::arange(p.width, graph.options()).unsqueeze(0).lt(counts.unsqueeze(1));
  return p;
}

torch::Tensor pad(const torch::Tensor& x, const Padding& p, std::int64_t graph_count) {
  const std::int64_t features = x.size(1);
  return torch::zeros({graph_count * p.width, features}, x.options())
      .index_copy(0, p.slot, x)
      .view({graph_count, p.width, features});
}

torch::Tensor unpad(const torch::Tensor& y, const Padding& p) {
  return y.reshape({-1, y.size(-1)}).index_select(0, p.slot);
}

// [gamma, beta] halves of an AdaLN projection, looked up per token from its graph's time.
torch::Tensor modulate(const torch::Tensor& h, const torch::Tensor& gamma_beta, std::int64_t hidden) {
  const auto normed = torch::layer_norm(h, {hidden});
  return normed * (1 + gamma_beta.narrow(1, 0, hidden)) + gamma_beta.narrow(1, hidden, hidden);
}

constexpr double kInitialDistanceWeight = 0.01;  // 1/Å^2: a 10 Å pair starts one logit unit down

}  // namespace

CrossAttentionSubBlockImpl::CrossAttentionSubBlockImpl(const CrossAttentionOptions& options)
    : options_(options) {
  const std::int64_t h = options.hidden;
  if (options.heads <= 0 || h % options.heads != 0) {
    throw std::invalid_argument("CrossAttentionSubBlock: hidden must be a multiple of heads");
  }
  modulation_attention_ = register_module("modulation_attention", torch::nn::Linear(options.time_dim, 2 * h));
  modulation_ffn_ = register_module("modulation_ffn", torch::nn::Linear(options.time_dim, 2 * h));
  w_q_ = register_module("w_q", torch::nn::Linear(h, h));
  w_k_ = register_module("w_k", torch::nn::Linear(h, h));
  w_v_ = register_module("w_v", torch::nn::Linear(h, h));
  w_o_ = register_module("w_o", torch::nn::Linear(h, h));
  ffn_in_ = register_module("ffn_in", torch::nn::Linear(h, 4 * h));
  ffn_out_ = register_module("ffn_out", torch::nn::Linear(4 * h, h));
  if (options.coordinate_channel) phi_x_ = register_module("phi_x", torch::nn::Linear(h, 1));
  if (options.distance_bias) {
    distance_weight_raw_ = register_parameter("distance_weight_raw", torch::empty({options.heads}));
  }
  reset_parameters();
}

void CrossAttentionSubBlockImpl::reset_parameters() {
  for (auto* linear :
       {&modulation_attention_, &modulation_ffn_, &w_q_, &w_k_, &w_v_, &w_o_, &ffn_in_, &ffn_out_}) {
    (*linear)->reset_parameters();
  }
  if (phi_x_) phi_x_->reset_parameters();
  if (distance_weight_raw_.defined()) {
    torch::NoGradGuard no_grad;
    distance_weight_raw_.fill_(std::log(std::expm1(kInitialDistanceWeight)));  // softplus^-1
  }
}

struct CrossAttentionSubBlockImpl::Scores {
  Padding pq, pk;
  torch::Tensor logits;  // [B, heads, Wq, Wk], -inf for padding keys and in graphs without keys
  torch::Tensor v, v_tokens;
  torch::Tensor dist2, diff;  // [B, Wq, Wk] and [B, Wq, Wk, 3]
  torch::Tensor key_mask;     // [B, 1, 1, Wk]
  torch::Tensor has_keys;     // [B]
};

CrossAttentionSubBlockImpl::Scores CrossAttentionSubBlockImpl::scores(const TokenSet& queries,
                                                                      const TokenSet& keys,
                                                                      const torch::Tensor& c,
                                                                      std::int64_t graph_count) {
  const std::int64_t hidden = options_.hidden, heads = options_.heads, d = hidden / heads;
  const std::int64_t b = graph_count;
  Scores s;
  s.pq = padding_for(queries.graph, b);
  s.pk = padding_for(keys.graph, b);
  const auto& pq = s.pq;
  const auto& pk = s.pk;

  // Modulated norm on the queries, plain LN on keys/values; Q, K, V split into heads per graph.
  const auto h_q = modulate(queries.h, modulation_attention_(c).index_select(0, queries.graph), hidden);
  const auto h_k = torch::layer_norm(keys.h, {hidden});
  const auto split = [&](const torch::Tensor& t, const Padding& p) {
    return pad(t, p, b).view({b, p.width, heads, d}).transpose(1, 2);  // [B, heads, width, d]
  };
  const auto q = split(w_q_(h_q), pq);
  s.v_tokens = w_v_(h_k);
  const auto k = split(w_k_(h_k), pk);
  s.v = split(s.v_tokens, pk);

  // Logits: scaled dot product minus the per-head distance bias (distances only: invariant).
  auto logits = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(d));
  // Positions may arrive in float64 for a float32 model; the logits follow the tokens' dtype.
  const auto dtype = queries.h.scalar_type();
  s.diff = pad(queries.x.to(dtype), pq, b).unsqueeze(2) -
           pad(keys.x.to(dtype), pk, b).unsqueeze(1);  // [B,Wq,Wk,3]
  s.dist2 = s.diff.pow(2).sum(-1);
  if (queries.positioned.defined() || keys.positioned.defined()) {
    // Pairs where either side has no position contribute no geometry at all.
    const auto has_position = [&](const TokenSet& set, const Padding& p) {
      const auto flag = set.positioned.defined() ? set.positioned.to(dtype).unsqueeze(1)
                                                 : torch::ones({set.h.size(0), 1}, set.h.options());
      return pad(flag, p, b).squeeze(-1);  // [B, W]
    };
    const auto pair = has_position(queries, pq).unsqueeze(2) * has_position(keys, pk).unsqueeze(1);
    s.dist2 = s.dist2 * pair;
    s.diff = s.diff * pair.unsqueeze(-1);
  }
  if (options_.distance_bias) {
    logits = logits - torch::softplus(distance_weight_raw_).view({1, heads, 1, 1}) * s.dist2.unsqueeze(1);
  }
  s.key_mask = pk.mask.view({b, 1, 1, pk.width});
  s.has_keys = pk.mask.any(1);
  s.logits = logits.masked_fill(s.key_mask.logical_not(), -std::numeric_limits<double>::infinity());
  return s;
}

SubBlockOutput CrossAttentionSubBlockImpl::forward(const TokenSet& queries, const TokenSet& keys,
                                                   const torch::Tensor& c, std::int64_t graph_count) {
  const std::int64_t hidden = options_.hidden;
  const std::int64_t b = graph_count;
  const auto s = scores(queries, keys, c, graph_count);
  const auto& pq = s.pq;
  const auto& pk = s.pk;
  const auto& v = s.v;
  const auto& v_tokens = s.v_tokens;
  const auto& dist2 = s.dist2;
  const auto& diff = s.diff;
  const auto& key_mask = s.key_mask;
  const auto& has_keys = s.has_keys;
  // A graph with no keys at all (no ligand) would softmax over -inf only and give NaN, so its rows get
  // finite logits and are then zeroed with the mask.
  const auto logits = s.logits.masked_fill(has_keys.logical_not().view({b, 1, 1, 1}), 0.0);
  const auto alpha = torch::softmax(logits, -1) * key_mask.to(logits.scalar_type());

  // h += W_o sum_k alpha V_k, then h += FFN(modulated LN(h)); queries without keys pass unchanged.
  const auto active = has_keys.index_select(0, queries.graph).unsqueeze(1).to(queries.h.scalar_type());
  const auto attended = torch::matmul(alpha, v).transpose(1, 2).reshape({b, pq.width, hidden});
  auto h = queries.h + active * w_o_(unpad(attended, pq));
  const auto h_f = modulate(h, modulation_ffn_(c).index_select(0, queries.graph), hidden);
  h = h + active * ffn_out_(torch::silu(ffn_in_(h_f)));

  SubBlockOutput out{h, {}};
  if (options_.coordinate_channel) {
    // dx_q = sum_k alpha_bar (x_q - X_k) phi_x(V_k) / (1 + |x_q - X_k|): invariant weights times
    // relative vectors, hence rotation-equivariant and translation-invariant. The clamp keeps the
    // gradient of |.| finite for coincident points (padding, or an atom sitting on an anchor).
    const auto alpha_bar = alpha.mean(1);                                       // [B, Wq, Wk]
    const auto phi = pad(phi_x_(v_tokens), pk, b).squeeze(-1).unsqueeze(1);     // [B, 1, Wk]
    const auto weight = alpha_bar * phi / (1 + dist2.clamp_min(1e-24).sqrt());  // [B, Wq, Wk]
    const auto dx = (weight.unsqueeze(-1) * diff).sum(2);                       // [B, Wq, 3]
    out.dx = active * unpad(dx, pq);
  }
  return out;
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(const CrossAttentionOptions& options) {
  ligand_to_residue_ = register_module("ligand_to_residue", CrossAttentionSubBlock(options));
  auto reverse = options;
  reverse.coordinate_channel = false;  // residue anchors are not moved by the ligand
  residue_to_ligand_ = register_module("residue_to_ligand", CrossAttentionSubBlock(reverse));
}

void CrossAttentionBlockImpl::reset_parameters() {
  ligand_to_residue_->reset_parameters();
  residue_to_ligand_->reset_parameters();
}

TokenSet merge_token_sets(const TokenSet& a, const TokenSet& b) {
  if (!b.h.defined() || b.h.size(0) == 0) return a;
  if (!a.h.defined() || a.h.size(0) == 0) return b;
  const auto flags = [](const TokenSet& s) {
    return s.positioned.defined() ? s.positioned.to(torch::kBool)
                                  : torch::ones({s.h.size(0)}, s.graph.options().dtype(torch::kBool));
  };
  const auto graph = torch::cat({a.graph, b.graph});
  // Stable order by graph: sort the key graph * n + position, which is unique.
  const auto n = graph.numel();
  const auto order = std::get<1>(torch::sort(graph * n + torch::arange(n, graph.options())));
  TokenSet merged;
  merged.h = torch::cat({a.h, b.h}).index_select(0, order);
  merged.x = torch::cat({a.x, b.x.to(a.x.scalar_type())}).index_select(0, order);
  merged.graph = graph.index_select(0, order);
  if (a.positioned.defined() || b.positioned.defined())
    merged.positioned = torch::cat({flags(a), flags(b)}).index_select(0, order);
  return merged;
}

CrossAttentionBlockOutput CrossAttentionBlockImpl::forward(const TokenSet& ligand, const TokenSet& residues,
                                                           const torch::Tensor& c, std::int64_t graph_count,
                                                           const TokenSet& extra_keys) {
  const auto from_residues =
      ligand_to_residue_(ligand, merge_token_sets(residues, extra_keys), c, graph_count);
  const TokenSet updated_ligand{from_residues.h, ligand.x, ligand.graph, ligand.positioned};
  const auto from_ligand = residue_to_ligand_(residues, updated_ligand, c, graph_count);
  return {from_residues.h, from_ligand.h, from_residues.dx};
}

AttentionPartials CrossAttentionSubBlockImpl::attention_partials(const TokenSet& queries,
                                                                 const TokenSet& keys, const torch::Tensor& c,
                                                                 std::int64_t graph_count) {
  const std::int64_t heads = options_.heads, d = options_.hidden / heads;
  const auto nq = queries.h.size(0);
  if (!keys.h.defined() || keys.h.size(0) == 0) {
    return {torch::full({nq, heads}, -std::numeric_limits<double>::infinity(), queries.h.options()),
            torch::zeros({nq, heads}, queries.h.options()),
            torch::zeros({nq, heads, d}, queries.h.options())};
  }
  const auto s = scores(queries, keys, c, graph_count);
  const auto max = std::get<0>(s.logits.max(-1));  // [B, heads, Wq]; -inf where a graph has no keys
  const auto safe_max = max.masked_fill(max.isinf(), 0.0).detach();
  const auto e = torch::exp(s.logits - safe_max.unsqueeze(-1));  // exp(-inf) = 0 for padding keys
  const auto per_query = [&](const torch::Tensor& t,
                             std::int64_t width) {  // [B, heads, Wq, w] -> [nq, heads, w]
    return unpad(t.permute({0, 2, 1, 3}).reshape({graph_count, s.pq.width, heads * width}), s.pq)
        .view({nq, heads, width});
  };
  return {per_query(max.detach().unsqueeze(-1), 1).squeeze(-1), per_query(e.sum(-1, true), 1).squeeze(-1),
          per_query(torch::matmul(e, s.v), d)};
}

torch::Tensor CrossAttentionSubBlockImpl::finish_attention(const TokenSet& queries,
                                                           const AttentionPartials& complete,
                                                           const torch::Tensor& c) {
  const std::int64_t hidden = options_.hidden;
  const auto nq = queries.h.size(0);
  const auto has = complete.sum_exp.gt(0);
  const auto attended =
      torch::where(has.unsqueeze(-1), complete.weighted / complete.sum_exp.clamp_min(1e-300).unsqueeze(-1),
                   torch::zeros_like(complete.weighted))
          .reshape({nq, hidden});
  const auto active = has.any(-1).unsqueeze(1).to(queries.h.scalar_type());
  auto h = queries.h + active * w_o_(attended);
  const auto h_f = modulate(h, modulation_ffn_(c).index_select(0, queries.graph), hidden);
  return h + active * ffn_out_(torch::silu(ffn_in_(h_f)));
}

AttentionPartials rescale_partials(const AttentionPartials& p, const torch::Tensor& max) {
  // exp(p.max - max), 0 where this share saw no key (p.max = -inf); max >= p.max keeps it <= 1.
  const auto factor = torch::where(p.max.isinf(), torch::zeros_like(p.max), torch::exp(p.max - max));
  return {max, p.sum_exp * factor, p.weighted * factor.unsqueeze(-1)};
}

AttentionPartials combine_partials(const AttentionPartials& a, const AttentionPartials& b) {
  const auto max = torch::maximum(a.max, b.max);
  const auto ra = rescale_partials(a, max), rb = rescale_partials(b, max);
  return {max, ra.sum_exp + rb.sum_exp, ra.weighted + rb.weighted};
}

CrossAttentionBlockOutput CrossAttentionBlockImpl::forward_partial(
    const TokenSet& ligand, const TokenSet& residues, const torch::Tensor& c, std::int64_t graph_count,
    const TokenSet& extra_keys, const AttentionReducer& reduce) {
  if (ligand_to_residue_->options().coordinate_channel)
    throw UsageError("cross-attention: the coordinate channel is not supported on the decomposed path");
  const auto local =
      ligand_to_residue_->attention_partials(ligand, merge_token_sets(residues, extra_keys), c, graph_count);
  const auto ligand_h = ligand_to_residue_->finish_attention(ligand, reduce ? reduce(local) : local, c);
  torch::Tensor residue_h = residues.h;
  if (residues.h.defined() && residues.h.size(0) > 0) {
    const TokenSet updated_ligand{ligand_h, ligand.x, ligand.graph, ligand.positioned};
    residue_h = residue_to_ligand_(residues, updated_ligand, c, graph_count).h;
  }
  return {ligand_h, residue_h, {}};
}

}  // namespace hemeplm::model
