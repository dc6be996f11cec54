// BasicESLayer = EGNN EGCL + GV_FF transition (model-spec.md (d); Align Your Structures layers.py).
#include <torch/nn/modules/activation.h>

#include "hemeplm/model/egnn.hpp"

namespace hemeplm::model {
namespace {

torch::nn::Sequential two_layer_mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, bool last_silu) {
  torch::nn::Sequential mlp(torch::nn::Linear(in, hidden), torch::nn::SiLU(), torch::nn::Linear(hidden, out));
  if (last_silu) mlp->push_back(torch::nn::SiLU());
  return mlp;
}

}  // namespace

BasicESLayerImpl::BasicESLayerImpl(std::int64_t hidden, std::int64_t edge_dim) {
  edge_mlp_ = register_module("edge_mlp", two_layer_mlp(2 * hidden + 1 + edge_dim, hidden, hidden, true));
  coord_mlp_ = register_module("coord_mlp", two_layer_mlp(hidden, hidden, 1, false));
  node_mlp_ = register_module("node_mlp", two_layer_mlp(2 * hidden, hidden, hidden, false));
  transition_in_ = register_module("transition_in", GVP(hidden, hidden, 1, 4, true));
  transition_out_ = register_module("transition_out", GVP(hidden, hidden, 4, 1, false));
}

std::pair<torch::Tensor, torch::Tensor> BasicESLayerImpl::forward(const torch::Tensor& x,
                                                                  const torch::Tensor& h,
                                                                  const torch::Tensor& edge_src,
                                                                  const torch::Tensor& edge_dst,
                                                                  const torch::Tensor& edge_attr) {
  const auto n = x.size(0);
  const auto frames = x.size(1);
  const auto hidden = h.size(2);
  // 1. x_ij = x_i - x_j and d2_ij per frame: [E, T, 3], [E, T, 1].
  const auto x_ij = x.index_select(0, edge_dst) - x.index_select(0, edge_src);
  const auto d2 = x_ij.pow(2).sum(-1, true);
  // 2. m_ij = SiLU(W2 SiLU(W1 [h_i || h_j || d2 || a_ij])); the edge attribute is static over frames.
  const auto a = edge_attr.unsqueeze(1).expand({edge_attr.size(0), frames, edge_attr.size(1)});
  const auto m_ij =
      edge_mlp_->forward(torch::cat({h.index_select(0, edge_dst), h.index_select(0, edge_src), d2, a}, -1));
  // 3. m_i = sum_j m_ij; h is replaced (not updated) by phi_h([h || m_i]).
  const auto m_i = torch::zeros({n, frames, hidden}, h.options()).index_add(0, edge_dst, m_ij);
  const auto h_egcl = node_mlp_->forward(torch::cat({h, m_i}, -1));
  // 4. dx_i = mean_j x_ij phi_x(m_ij) / (sqrt(d2 + 1e-8) + 1); isolated atoms get zero.
  const auto weight = coord_mlp_->forward(m_ij) / ((d2 + 1e-8).sqrt() + 1.0);
  const auto summed = torch::zeros({n, frames, 3}, x.options()).index_add(0, edge_dst, weight * x_ij);
  const auto degree = torch::zeros({n}, x.options())
                          .index_add(0, edge_dst, torch::ones({edge_dst.size(0)}, x.options()))
                          .clamp_min(1.0);
  const auto dx = summed / degree.view({n, 1, 1});
  // 5. GV_FF on (s = h, V = dx as one vector channel); only its vector output moves x.
  auto [s1, v1] = transition_in_(h_egcl.reshape({n * frames, hidden}), dx.reshape({n * frames, 3, 1}));
  auto [s2, v2] = transition_out_(s1, v1);
  return {x + v2.reshape({n, frames, 3}), h_egcl + s2.reshape({n, frames, hidden})};
}

}  // namespace hemeplm::model
