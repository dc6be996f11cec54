// Diffusion-time conditioning shared by the cross-attention blocks (model-spec.md (b)):
// c = MLP(SinEmb(t)), SinEmb of width 256, MLP = Linear(256, 1024) -> SiLU -> Linear(1024, 256).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "hemeplm/model/config.hpp"

namespace hemeplm::model {

/// Transformer-style sinusoidal embedding of a (diffusion) step: [sin(t w_i), cos(t w_i)],
/// w_i = 10000^(-i / (dim / 2)). Stateless, so a plain value type rather than a Module.
class SinusoidalEmbedding {
 public:
  explicit SinusoidalEmbedding(std::int64_t dim);

  /// t: [B] integer or floating steps. Returns [B, dim] in `dtype`.
  torch::Tensor operator()(const torch::Tensor& t, torch::Dtype dtype = torch::kFloat64) const;

  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
};

/// c = Linear(hidden -> out)(SiLU(Linear(emb -> hidden)(SinEmb(t)))); 525,568 parameters at the defaults.
class DiffusionTimeMLPImpl : public torch::nn::Module {
 public:
  explicit DiffusionTimeMLPImpl(const DiffusionTimeOptions& options = {});

  void reset_parameters();

  /// t: [B] diffusion steps, one per graph. Returns c: [B, output_dim] in the parameters' dtype.
  torch::Tensor forward(const torch::Tensor& t);

  const DiffusionTimeOptions& options() const { return options_; }

 private:
  DiffusionTimeOptions options_;
  SinusoidalEmbedding embedding_;
  torch::nn::Linear fc1_{nullptr};
  torch::nn::Linear fc2_{nullptr};
};
TORCH_MODULE(DiffusionTimeMLP);

}  // namespace hemeplm::model
