// Stage 2 EGInterpolator forward (model-spec.md (d), "EGInterpolator forward").
#include <torch/nn/functional/activation.h>

#include <tuple>

#include "hemeplm/model/temporal.hpp"

namespace hemeplm::model {
namespace {

/// Cascaded mix on the free frames, anchored on the frozen spatial output of the same layer:
/// v[free] <- sigma(k) v_s + (1 - sigma(k)) v[free]. With sigma(k) == 1 this is exactly v_s.
torch::Tensor mix_free(const torch::Tensor& v, const torch::Tensor& v_s, const torch::Tensor& a,
                       const torch::Tensor& free) {
  return v.index_copy(1, free, a * v_s + (1.0 - a) * v.index_select(1, free));
}

}  // namespace

EGInterpolatorImpl::EGInterpolatorImpl(std::int64_t layers, std::int64_t hidden) : layers_(layers) {
  // Stage-1 names first (same as ConformerModel), then the trainable temporal part.
  embedding_ = register_module("embedding", ESEmbedding());
  input_linear_ = register_module("input_linear", torch::nn::Linear(30 + 32, hidden));
  spatial_ = register_module("spatial", torch::nn::ModuleList());
  temporal2_ = register_module("temporal2", torch::nn::ModuleList());
  extra_spatial_ = register_module("extra_spatial", torch::nn::ModuleList());
  temporal_ = register_module("temporal", torch::nn::ModuleList());
  norm1_ = register_module("norm1", torch::nn::ModuleList());
  norm2_ = register_module("norm2", torch::nn::ModuleList());
  norm3_ = register_module("norm3", torch::nn::ModuleList());
  const auto ln = [hidden] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})); };
  for (std::int64_t i = 0; i < layers; ++i) {
    spatial_->push_back(BasicESLayer(hidden, 4));
    temporal2_->push_back(ETLayer(hidden));
    extra_spatial_->push_back(BasicESLayer(hidden, 4));
    temporal_->push_back(ETLayer(hidden));
    norm1_->push_back(ln());
    norm2_->push_back(ln());
    if (i + 1 < layers) norm3_->push_back(ln());  // LN3 is skipped in the last layer
    // k = 0 (alpha = 0.5) at init; the last layer's T h-mix is fixed at 1, so it has no logit.
    const std::int64_t count = i + 1 < layers ? 6 : 5;
    mix_logits_.push_back(register_parameter("mix_logits_" + std::to_string(i), torch::zeros({count})));
  }
  condition_embedding_ = register_module("condition_embedding", torch::nn::Embedding(2, hidden));
}

torch::Tensor EGInterpolatorImpl::forward_conformer(const MoleculeInput& molecule, const torch::Tensor& x_t) {
  auto [h, edge_attr] = embed_trajectory(embedding_, input_linear_, molecule, x_t.size(1));
  auto x = x_t;
  for (std::int64_t i = 0; i < layers_; ++i) {
    std::tie(x, h) =
        spatial_[i]->as<BasicESLayer>()->forward(x, h, molecule.edge_src, molecule.edge_dst, edge_attr);
  }
  return x - x_t;
}

void EGInterpolatorImpl::freeze_spatial() {
  for (auto& p : embedding_->parameters()) p.requires_grad_(false);
  for (auto& p : input_linear_->parameters()) p.requires_grad_(false);
  for (auto& p : spatial_->parameters()) p.requires_grad_(false);
}

torch::Tensor EGInterpolatorImpl::forward(const TrajectoryInput& in, const torch::Tensor& x_t,
                                          const torch::Tensor& context) {
  const auto n = x_t.size(0);
  const auto frames = x_t.size(1);
  const auto& mol = in.molecule;
  const auto bool_opts = torch::TensorOptions().dtype(torch::kBool).device(x_t.device());
  // Known (atom, frame) entries: whole conditioning frames plus inpainted atoms.
  auto known = torch::zeros({n, frames}, bool_opts);
  if (in.known_frames.defined()) known = known.logical_or(in.known_frames.to(torch::kBool).unsqueeze(0));
  if (in.known_atoms.defined()) known = known.logical_or(in.known_atoms.to(torch::kBool));
  const auto free =
      in.known_frames.defined()
          ? torch::nonzero(in.known_frames.to(torch::kBool).logical_not()).reshape({-1})
          : torch::arange(frames, torch::TensorOptions().dtype(torch::kLong).device(x_t.device()));
  // Network input M * x_given + (1 - M) * x_t: known entries are clean and never noised.
  auto x = in.x_given.defined() ? torch::where(known.unsqueeze(-1), in.x_given, x_t) : x_t;
  const auto x_in = x.index_select(1, free);
  // Not a structured binding: the lambdas below capture edge_attr (C++17 forbids capturing bindings).
  torch::Tensor h, edge_attr;
  std::tie(h, edge_attr) = embed_trajectory(embedding_, input_linear_, mol, frames);
  if (context.defined()) h = h + context.unsqueeze(1);

  const auto es = [&](torch::nn::ModuleList& list, std::int64_t i, const torch::Tensor& xv,
                      const torch::Tensor& hv) {
    return list[i]->as<BasicESLayer>()->forward(xv, hv, mol.edge_src, mol.edge_dst, edge_attr);
  };
  const auto et = [&](std::int64_t i, bool second, const torch::Tensor& xv, const torch::Tensor& hv) {
    return (second ? temporal_ : temporal2_)[i]->as<ETLayer>()->forward(xv, hv, in.frame_times);
  };
  const auto norm = [](torch::nn::ModuleList& list, std::int64_t i, const torch::Tensor& hv) {
    return list[i]->as<torch::nn::LayerNorm>()->forward(hv);
  };
  for (std::int64_t i = 0; i < layers_; ++i) {
    const auto a = torch::sigmoid(mix_logits_[i]);
    // 1. Frozen spatial layer on free frames only; condition state added once after layer 0.
    //    The anchor h_s is the pure S_i output, so with alpha = 1 the stack is the stage-1 model.
    auto [x_s, h_s] = es(spatial_, i, x.index_select(1, free), h.index_select(1, free));
    x = x.index_copy(1, free, x_s);
    h = h.index_copy(1, free, h_s);
    if (i == 0) h = h + condition_embedding_(known.to(torch::kLong));
    // 2. Temporal layer T2 on all frames; known frames keep their coordinates.
    auto [x2, h2] = et(i, false, x, h);
    x = mix_free(x.index_copy(1, free, x2.index_select(1, free)), x_s, a[0], free);
    h = mix_free(norm(norm1_, i, h2), h_s, a[1], free);
    // 3. Extra trainable spatial layer S' on all frames.
    auto [x3, h3] = es(extra_spatial_, i, x, h);
    x = mix_free(x.index_copy(1, free, x3.index_select(1, free)), x_s, a[2], free);
    h = mix_free(norm(norm2_, i, h3), h_s, a[3], free);
    // 4. Temporal layer T; the last layer has no LN3 and its h-mix is fixed at 1 (h is unused after).
    auto [x4, h4] = et(i, true, x, h);
    x = mix_free(x.index_copy(1, free, x4.index_select(1, free)), x_s, a[4], free);
    h = i + 1 < layers_ ? mix_free(norm(norm3_, i, h4), h_s, a[5], free) : h.index_copy(1, free, h_s);
  }
  // 5. eps_hat on free frames only: conditioning frames get no output.
  return x.index_select(1, free) - x_in;
}

}  // namespace hemeplm::model
