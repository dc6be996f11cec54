// Neighbour embedding (model-spec.md (a), "Embedding"): mixes the embeddings of neighbouring atom types into
// x before the first layer, over non-self edges only.
#include <torch/nn/init.h>
#include <torch/types.h>

#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {

NeighborEmbeddingImpl::NeighborEmbeddingImpl(const ViSNetConfig& config) {
  const auto h = config.hidden;
  neighbor_embedding_ = register_module("neighbor_embedding", torch::nn::Embedding(config.max_z, h));
  distance_proj_ = register_module("distance_proj", torch::nn::Linear(config.num_rbf, h));
  combine_ = register_module("combine", torch::nn::Linear(2 * h, h));
  reset_parameters();
}

void NeighborEmbeddingImpl::reset_parameters() {
  neighbor_embedding_->reset_parameters();  // N(0, 1), like torch.nn.Embedding
  for (auto* linear : {&distance_proj_, &combine_}) {
    torch::nn::init::xavier_uniform_((*linear)->weight);
    torch::nn::init::zeros_((*linear)->bias);
  }
}

torch::Tensor NeighborEmbeddingImpl::forward(const torch::Tensor& atomic_numbers, const torch::Tensor& x,
                                             const torch::Tensor& src, const torch::Tensor& dst,
                                             const torch::Tensor& rbf, const torch::Tensor& cut) {
  // W = (W_d e(r_ij) + b_d) phi(r_ij); the RBF already carries phi, the reference multiplies once more.
  const auto w = distance_proj_(rbf) * cut.unsqueeze(1);
  const auto messages = neighbor_embedding_(atomic_numbers).index_select(0, src) * w;
  const auto aggregated = torch::zeros_like(x).index_add(0, dst, messages);
  return combine_(torch::cat({x, aggregated}, 1));
}

}  // namespace hemeplm::model
