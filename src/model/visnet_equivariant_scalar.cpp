// EquivariantScalar output head (model-spec.md (a), "Output head"): two gated equivariant blocks,
// H -> H/2 (SiLU on the scalars) -> 1.
#include <torch/nn/init.h>
#include <torch/types.h>

#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {
namespace {

/// ||w|| over the harmonic axis (dim 1) with a zero-safe gradient: an atom without neighbours has w = 0,
/// where sqrt has an infinite derivative. The reference masks those rows; `where` does the same and stays
/// differentiable twice (the masked branch sees sqrt(1)).
torch::Tensor safe_norm(const torch::Tensor& w) {
  const auto squared = (w * w).sum(1);
  const auto nonzero = squared > 0;
  const auto safe = torch::where(nonzero, squared, torch::ones_like(squared));
  return torch::where(nonzero, torch::sqrt(safe), torch::zeros_like(squared));
}

}  // namespace

GatedEquivariantBlockImpl::GatedEquivariantBlockImpl(std::int64_t in, std::int64_t out,
                                                     std::int64_t intermediate, bool scalar_activation)
    : out_(out), scalar_activation_(scalar_activation) {
  using torch::nn::Linear;
  using torch::nn::LinearOptions;
  vec1_proj_ = register_module("vec1_proj", Linear(LinearOptions(in, in).bias(false)));
  vec2_proj_ = register_module("vec2_proj", Linear(LinearOptions(in, out).bias(false)));
  update_in_ = register_module("update_in", Linear(2 * in, intermediate));
  update_out_ = register_module("update_out", Linear(intermediate, 2 * out));
  reset_parameters();
}

void GatedEquivariantBlockImpl::reset_parameters() {
  for (const auto& linear : {vec1_proj_, vec2_proj_, update_in_, update_out_}) {
    torch::nn::init::xavier_uniform_(linear->weight);
    if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
  }
}

std::vector<torch::Tensor> GatedEquivariantBlockImpl::forward(const torch::Tensor& x,
                                                              const torch::Tensor& v) {
  const auto n = safe_norm(vec1_proj_(v));  // invariant
  const auto w = vec2_proj_(v);             // equivariant
  const auto sg = update_out_(torch::silu(update_in_(torch::cat({x, n}, 1)))).split(out_, 1);
  auto s = scalar_activation_ ? torch::silu(sg[0]) : sg[0];
  return {s, sg[1].unsqueeze(1) * w};
}

EquivariantScalarImpl::EquivariantScalarImpl(std::int64_t hidden) {
  block1_ = register_module("block1", GatedEquivariantBlock(hidden, hidden / 2, hidden, true));
  block2_ = register_module("block2", GatedEquivariantBlock(hidden / 2, 1, hidden / 2, false));
}

void EquivariantScalarImpl::reset_parameters() {
  block1_->reset_parameters();
  block2_->reset_parameters();
}

torch::Tensor EquivariantScalarImpl::forward(const torch::Tensor& x, const torch::Tensor& v) {
  const auto h = block1_(x, v);
  // The second block's vector output is unused for a scalar target (the reference adds v.sum() * 0 only to
  // keep DDP's unused-parameter check quiet); block2.vec2_proj therefore never receives a gradient.
  return block2_(h[0], h[1])[0].squeeze(1);
}

}  // namespace hemeplm::model
