// One ViS-MP layer (model-spec.md (a), "ViS-MP layer", steps 1-8). Messages flow src = j -> dst = i.
#include <torch/nn/init.h>
#include <torch/types.h>

#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {
namespace {

/// Rej(w, d) = w - (sum_m w_m d_m) d over the harmonic axis; w [E, M, H], d [E, M]. d is Y as-is (not unit
/// norm for lmax = 2), matching the reference.
torch::Tensor reject(const torch::Tensor& w, const torch::Tensor& d) {
  const auto dd = d.unsqueeze(2);
  return w - (w * dd).sum(1, /*keepdim=*/true) * dd;
}

}  // namespace

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

ViSNetState VisMPLayerImpl::forward(const ViSNetState& state, const ViSNetEdges& edges) {
  const auto n = state.x.size(0);
  const auto e = edges.src.size(0);
  const auto dh = hidden_ / heads_;
  const auto& src = edges.src;
  const auto& dst = edges.dst;
  const auto& y = edges.harmonics;

  // 1. Pre-norm. VecLN is the identity for vecnorm_type = 'none', the only variant implemented.
  const auto x = layernorm_(state.x);
  const auto& v = state.v;

  // 2. Projections and edge filters.
  const auto q = q_proj_(x).reshape({n, heads_, dh});
  const auto k = k_proj_(x).reshape({n, heads_, dh});
  const auto u = v_proj_(x).reshape({n, heads_, dh});
  const auto dk = torch::silu(dk_proj_(state.f)).reshape({e, heads_, dh});
  const auto dv = torch::silu(dv_proj_(state.f)).reshape({e, heads_, dh});

  // 3. Attention: one scalar per head, SiLU instead of softmax, damped by the cosine cutoff.
  const auto attn =
      torch::silu((q.index_select(0, dst) * k.index_select(0, src) * dk).sum(-1)) * edges.cut.unsqueeze(1);

  // 4. Scalar and vector messages, summed into i.
  const auto m = (u.index_select(0, src) * dv * attn.unsqueeze(2)).reshape({e, hidden_});
  const auto s = torch::silu(s_proj_(m)).chunk(2, 1);
  const auto mu = v.index_select(0, src) * s[0].unsqueeze(1) + s[1].unsqueeze(1) * y.unsqueeze(2);
  const auto m_i = torch::zeros({n, hidden_}, x.options()).index_add(0, dst, m);
  const auto mu_i = torch::zeros_like(v).index_add(0, dst, mu);

  // 5. Vector-scalar interaction.
  const auto uvec = vec_proj_(v).chunk(3, 2);
  const auto dot = (uvec[0] * uvec[1]).sum(1);
  const auto o = o_proj_(m_i).chunk(3, 1);

  // 6. Node deltas; 8. residual updates.
  ViSNetState out;
  out.x = state.x + dot * o[1] + o[2];
  out.v = state.v + uvec[2] * o[0].unsqueeze(1) + mu_i;

  // 7. Edge update (skipped on the last layer, whose edge features nobody reads).
  if (last_layer_) {
    out.f = state.f;
  } else {
    const auto w1 = reject(w_trg_proj_(v.index_select(0, dst)), y);
    const auto w2 = reject(w_src_proj_(v.index_select(0, src)), -y);
    out.f = state.f + torch::silu(f_proj_(state.f)) * (w1 * w2).sum(1);
  }
  return out;
}

}  // namespace hemeplm::model
