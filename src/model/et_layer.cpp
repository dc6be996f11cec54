// ETLayer: temporal attention per atom over frames (model-spec.md (d); GeoTDM models/layers.py).
#include <torch/nn/modules/activation.h>

#include "hemeplm/model/temporal.hpp"

namespace hemeplm::model {
namespace {

torch::nn::Sequential mlp(std::int64_t in, std::int64_t hidden, std::int64_t out) {
  return torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::SiLU(),
                               torch::nn::Linear(hidden, out));
}

}  // namespace

ETLayerImpl::ETLayerImpl(std::int64_t hidden) {
  q_mlp_ = register_module("q_mlp", mlp(hidden, hidden, hidden));
  k_mlp_ = register_module("k_mlp", mlp(hidden, hidden, hidden));
  v_mlp_ = register_module("v_mlp", mlp(hidden, hidden, hidden));
  x_mlp_ = register_module("x_mlp", mlp(hidden, hidden, 1));
  time_emb_ = register_module("time_emb", torch::nn::Linear(32, hidden));
}

std::pair<torch::Tensor, torch::Tensor> ETLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& h,
                                                             const torch::Tensor& frame_times) {
  const auto frames = x.size(1);
  // rho_ts from integer offsets t - s (negative allowed): [T, T, H]. Shifting all times cancels.
  const auto offsets = frame_times.unsqueeze(1) - frame_times.unsqueeze(0);
  const auto rho =
      time_emb_(es_sin_embedding(offsets.reshape({-1}), 32, h.scalar_type())).view({frames, frames, -1});
  const auto q = q_mlp_->forward(h);
  const auto k = k_mlp_->forward(h);
  const auto u = v_mlp_->forward(h);
  const auto nu = x_mlp_->forward(u);  // [N, T, 1] scalar coordinate weight of each source frame s
  // alpha_ts = softmax_s(q_t.k_s + q_t.rho_ts): no 1/sqrt(d) and no mask, as in the reference.
  const auto logits = torch::bmm(q, k.transpose(1, 2)) + torch::einsum("nth,tsh->nts", {q, rho});
  const auto alpha = torch::softmax(logits, -1);
  const auto h_new = h + torch::bmm(alpha, u) + torch::einsum("nts,tsh->nth", {alpha, rho});
  // sum_s alpha_ts (x_t - x_s) nu_s, without the [N, T, T, 3] difference tensor.
  const auto w = alpha * nu.transpose(1, 2);
  const auto x_new = x + x * w.sum(-1, true) - torch::bmm(w, x);
  return {x_new, h_new};
}

}  // namespace hemeplm::model
