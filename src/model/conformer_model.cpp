// Stage 1 of the EGInterpolator recipe: the BasicES conformer denoiser (model-spec.md (d)).
#include <cmath>
#include <tuple>

#include "hemeplm/model/egnn.hpp"

namespace hemeplm::model {

torch::Tensor es_sin_embedding(const torch::Tensor& t, std::int64_t dim, torch::ScalarType dtype) {
  const auto half = dim / 2;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(t.device());
  // Built in float64 so integer steps up to 1000 keep their phase, then cast to the model dtype.
  const auto freq =
      torch::exp(torch::arange(half, opts) * (-std::log(1.0e4) / static_cast<double>(half - 1)));
  const auto arg = t.to(torch::kFloat64).reshape({-1, 1}) * freq.unsqueeze(0);
  return torch::cat({arg.sin(), arg.cos()}, -1).to(dtype);
}

ESEmbeddingImpl::ESEmbeddingImpl() {
  atom_type_ = register_module("atom_type", torch::nn::Embedding(100, 30));
  feature_linear_ = register_module("feature_linear", torch::nn::Linear(30 + 42, 30));
  edge_type_ = register_module("edge_type", torch::nn::Embedding(50, 4));
}

std::pair<torch::Tensor, torch::Tensor> ESEmbeddingImpl::forward(const MoleculeInput& in) {
  const auto h0 = feature_linear_(torch::cat({atom_type_(in.atomic_numbers), in.atom_features}, -1));
  return {h0, edge_type_(in.edge_type)};
}

std::pair<torch::Tensor, torch::Tensor> embed_trajectory(ESEmbedding& embedding,
                                                         torch::nn::Linear& input_linear,
                                                         const MoleculeInput& in, std::int64_t frames) {
  auto [h0, edge_attr] = embedding->forward(in);
  if (in.diffusion_step.dim() == 2) {
    // Per-frame steps [N, T] (rolling sampler, per-frame noise training): one embedding per frame.
    const auto n = h0.size(0);
    const auto t_emb = es_sin_embedding(in.diffusion_step.reshape({-1}), 32, h0.scalar_type())
                           .view({n, in.diffusion_step.size(1), 32});
    return {input_linear(torch::cat({h0.unsqueeze(1).expand({n, t_emb.size(1), h0.size(1)}), t_emb}, -1)),
            edge_attr};
  }
  const auto t_emb = es_sin_embedding(in.diffusion_step, 32, h0.scalar_type());
  const auto h = input_linear(torch::cat({h0, t_emb}, -1));
  // Atom features and the step are frame-independent: one embedding, broadcast over T.
  return {h.unsqueeze(1).expand({h.size(0), frames, h.size(1)}), edge_attr};
}

ConformerModelImpl::ConformerModelImpl(std::int64_t layers, std::int64_t hidden) {
  embedding_ = register_module("embedding", ESEmbedding());
  input_linear_ = register_module("input_linear", torch::nn::Linear(30 + 32, hidden));
  spatial_ = register_module("spatial", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i) spatial_->push_back(BasicESLayer(hidden, 4));
}

torch::Tensor ConformerModelImpl::forward(const MoleculeInput& in, const torch::Tensor& x) {
  auto [h, edge_attr] = embed_trajectory(embedding_, input_linear_, in, x.size(1));
  auto x_cur = x;
  for (const auto& layer : *spatial_) {
    std::tie(x_cur, h) = layer->as<BasicESLayer>()->forward(x_cur, h, in.edge_src, in.edge_dst, edge_attr);
  }
  return x_cur - x;  // eps_hat: translation invariant, rotation equivariant
}

}  // namespace hemeplm::model
