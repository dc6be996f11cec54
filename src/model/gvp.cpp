// Geometric vector perceptron of the GV_FF transition (model-spec.md (d), step 5).
#include <torch/nn/functional/activation.h>

#include <algorithm>

#include "hemeplm/model/egnn.hpp"

namespace hemeplm::model {

GVPImpl::GVPImpl(std::int64_t s_in, std::int64_t s_out, std::int64_t v_in, std::int64_t v_out,
                 bool scalar_silu)
    : scalar_silu_(scalar_silu) {
  const std::int64_t v_hidden = std::max(v_in, v_out);  // the GVP paper's h = max(v_in, v_out)
  wh_ = register_module("wh", torch::nn::Linear(torch::nn::LinearOptions(v_in, v_hidden).bias(false)));
  wu_ = register_module("wu", torch::nn::Linear(torch::nn::LinearOptions(v_hidden, v_out).bias(false)));
  ws_ = register_module("ws", torch::nn::Linear(s_in + v_hidden, s_out));
  wg_ = register_module("wg", torch::nn::Linear(s_out, v_out));
}

std::pair<torch::Tensor, torch::Tensor> GVPImpl::forward(const torch::Tensor& s, const torch::Tensor& v) {
  // Linear maps act on the channel (last) dimension of [M, 3, C], i.e. mix vectors, never xyz.
  const auto v_h = wh_(v);
  const auto v_u = wu_(v_h);
  // Clamped norm: a zero vector (e.g. an atom with no neighbours) must not give NaN gradients.
  const auto norm = v_h.pow(2).sum(1).clamp_min(1e-8).sqrt();
  auto s_out = ws_(torch::cat({s, norm}, -1));
  if (scalar_silu_) s_out = torch::silu(s_out);
  const auto gate = torch::sigmoid(wg_(s_out)).unsqueeze(1);  // invariant gate keeps V' equivariant
  return {s_out, gate * v_u};
}

}  // namespace hemeplm::model
