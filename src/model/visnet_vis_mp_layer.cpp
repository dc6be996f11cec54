// One ViS-MP layer (model-spec.md (a), "ViS-MP layer", steps 1-8). Messages flow src = j -> dst = i.
#include <torch/nn/init.h>
#include <torch/types.h>

#include <algorithm>

#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {
torch::Tensor rejection_product_reference(const torch::Tensor& a, const torch::Tensor& b,
                                          const torch::Tensor& y) {
  // Rej(w, d) = w - (sum_m w_m d_m) d over the harmonic axis, d = Y as-is (not unit norm for lmax = 2),
  // matching the reference; the second factor is rejected from -y.
  const auto reject = [](const torch::Tensor& w, const torch::Tensor& d) {
    const auto dd = d.unsqueeze(2);
    return w - (w * dd).sum(1, /*keepdim=*/true) * dd;
  };
  return (reject(a, y) * reject(b, -y)).sum(1);
}

torch::Tensor rejection_product(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& y) {
  // With alpha = a.y and beta = b.y (sums over m): Rej(a, y).Rej(b, -y) = a.b - 2 alpha beta +
  // alpha beta |y|^2. Exact algebra; no rejected [E, M, H] tensor is materialised or saved for backward.
  const auto yy = y.unsqueeze(2);
  const auto alpha = (a * yy).sum(1);  // [E, H]
  const auto beta = (b * yy).sum(1);
  const auto y_norm2 = y.pow(2).sum(1, /*keepdim=*/true);  // [E, 1]
  return (a * b).sum(1) + alpha * beta * (y_norm2 - 2.0);
}

VisMPLayerImpl::VisMPLayerImpl(const ViSNetConfig& config, bool last_layer)
    : hidden_(config.hidden), heads_(config.heads), last_layer_(last_layer) {
  const auto h = hidden_;
  layernorm_ = register_module("layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
  q_proj_ = register_module("q_proj", torch::nn::Linear(h, h));
  k_proj_ = register_module("k_proj", torch::nn::Linear(h, h));
  v_proj_ = register_module("v_proj", torch::nn::Linear(h, h));
  dk_proj_ = register_module("dk_proj", torch::nn::Linear(h, h));
  dv_proj_ = register_module("dv_proj", torch::nn::Linear(h, h));
  s_proj_ = register_module("s_proj", torch::nn::Linear(h, 2 * h));
  vec_proj_ = register_module("vec_proj", torch::nn::Linear(torch::nn::LinearOptions(h, 3 * h).bias(false)));
  o_proj_ = register_module("o_proj", torch::nn::Linear(h, 3 * h));
  if (!last_layer_) {
    w_src_proj_ =
        register_module("w_src_proj", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
    w_trg_proj_ =
        register_module("w_trg_proj", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
    f_proj_ = register_module("f_proj", torch::nn::Linear(h, h));
  }
  reset_parameters();
}

void VisMPLayerImpl::reset_parameters() {
  layernorm_->reset_parameters();
  for (const auto& linear : {q_proj_, k_proj_, v_proj_, dk_proj_, dv_proj_, s_proj_, vec_proj_, o_proj_,
                             w_src_proj_, w_trg_proj_, f_proj_}) {
    if (!linear) continue;  // the edge-update projections do not exist on the last layer
    torch::nn::init::xavier_uniform_(linear->weight);
    if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
  }
}

ViSNetState VisMPLayerImpl::forward(const ViSNetState& state, const ViSNetEdges& edges,
                                    std::int64_t edge_chunk) {
  const auto n = state.x.size(0);
  const auto e = edges.src.size(0);
  const auto dh = hidden_ / heads_;
  const auto& v = state.v;

  // 1. Pre-norm. VecLN is the identity for vecnorm_type = 'none', the only variant implemented.
  const auto x = layernorm_(state.x);

  // 2. Node projections. The bias-free edge-update projections commute with the gather, so they run
  // on the N nodes rather than the E edges: E / N (~40 with hydrogens at 5 Å) times fewer
  // [., M, H] x [H, H] products.
  const auto q = q_proj_(x).reshape({n, heads_, dh});
  const auto k = k_proj_(x).reshape({n, heads_, dh});
  const auto u = v_proj_(x).reshape({n, heads_, dh});
  const auto w_trg = last_layer_ ? torch::Tensor() : w_trg_proj_(v);  // W_trg v, [N, M, H]
  const auto w_src = last_layer_ ? torch::Tensor() : w_src_proj_(v);

  // Steps 2-4 and 7 for the edges [start, start + count): messages into i and the updated f.
  struct EdgeBlock {
    torch::Tensor dst, m, mu, f;
  };
  const auto edge_block = [&](std::int64_t start, std::int64_t count) {
    const auto src = edges.src.narrow(0, start, count);
    const auto dst = edges.dst.narrow(0, start, count);
    const auto y = edges.harmonics.narrow(0, start, count);
    const auto f = state.f.narrow(0, start, count);
    const auto dk = torch::silu(dk_proj_(f)).reshape({count, heads_, dh});
    const auto dv = torch::silu(dv_proj_(f)).reshape({count, heads_, dh});
    // 3. Attention: one scalar per head, SiLU instead of softmax, damped by the cosine cutoff.
    const auto attn = torch::silu((q.index_select(0, dst) * k.index_select(0, src) * dk).sum(-1)) *
                      edges.cut.narrow(0, start, count).unsqueeze(1);
    // 4. Scalar and vector messages.
    EdgeBlock block;
    block.dst = dst;
    block.m = (u.index_select(0, src) * dv * attn.unsqueeze(2)).reshape({count, hidden_});
    const auto s = torch::silu(s_proj_(block.m)).chunk(2, 1);
    block.mu = v.index_select(0, src) * s[0].unsqueeze(1) + s[1].unsqueeze(1) * y.unsqueeze(2);
    // 7. Edge update (skipped on the last layer, whose edge features nobody reads).
    if (!last_layer_) {
      const auto w = rejection_product(w_trg.index_select(0, dst), w_src.index_select(0, src), y);
      block.f = f + torch::silu(f_proj_(f)) * w;
    }
    return block;
  };

  torch::Tensor m_i, mu_i, f_out;
  if (edge_chunk <= 0 || edge_chunk >= e) {
    // One block: the form autograd differentiates (and double-differentiates for forces).
    const auto block = edge_block(0, e);
    m_i = torch::zeros({n, hidden_}, x.options()).index_add(0, block.dst, block.m);
    mu_i = torch::zeros_like(v).index_add(0, block.dst, block.mu);
    f_out = last_layer_ ? state.f : block.f;
  } else {
    // Inference on large graphs: blocks of edges summed in place, so no [E, M, H] tensor ever exists
    // and the peak memory is the edge features f plus one block. Callers use it under NoGradGuard.
    m_i = torch::zeros({n, hidden_}, x.options());
    mu_i = torch::zeros_like(v);
    f_out = last_layer_ ? state.f : torch::empty_like(state.f);
    for (std::int64_t start = 0; start < e; start += edge_chunk) {
      const auto count = std::min(edge_chunk, e - start);
      const auto block = edge_block(start, count);
      m_i.index_add_(0, block.dst, block.m);
      mu_i.index_add_(0, block.dst, block.mu);
      if (!last_layer_) f_out.narrow(0, start, count).copy_(block.f);
    }
  }

  // 5. Vector-scalar interaction.
  const auto uvec = vec_proj_(v).chunk(3, 2);
  const auto dot = (uvec[0] * uvec[1]).sum(1);
  const auto o = o_proj_(m_i).chunk(3, 1);

  // 6. Node deltas; 8. residual updates.
  ViSNetState out;
  out.x = state.x + dot * o[1] + o[2];
  out.v = state.v + uvec[2] * o[0].unsqueeze(1) + mu_i;
  out.f = f_out;
  return out;
}

}  // namespace hemeplm::model
