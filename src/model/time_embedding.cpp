#include "hemeplm/model/time_embedding.hpp"

#include <torch/nn/init.h>

#include <cmath>
#include <stdexcept>

namespace hemeplm::model {

SinusoidalEmbedding::SinusoidalEmbedding(std::int64_t dim) : dim_(dim) {
  if (dim <= 0 || dim % 2 != 0) {
    throw std::invalid_argument("SinusoidalEmbedding: dim must be positive and even");
  }
}

torch::Tensor SinusoidalEmbedding::operator()(const torch::Tensor& t, torch::Dtype dtype) const {
  const std::int64_t half = dim_ / 2;
  // Frequencies are computed in float64 so that float32 and float64 models embed the same step
  // identically up to the final cast (integer steps up to ~1000 lose digits in float32 products).
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(t.device());
  const auto freqs = torch::exp(torch::arange(half, opts) * (-std::log(10000.0) / static_cast<double>(half)));
  const auto args = t.to(torch::kFloat64).reshape({-1, 1}) * freqs.unsqueeze(0);
  return torch::cat({torch::sin(args), torch::cos(args)}, 1).to(dtype);
}

DiffusionTimeMLPImpl::DiffusionTimeMLPImpl(const DiffusionTimeOptions& options)
    : options_(options), embedding_(options.embedding_dim) {
  fc1_ = register_module("fc1", torch::nn::Linear(options.embedding_dim, options.hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(options.hidden, options.output_dim));
}

void DiffusionTimeMLPImpl::reset_parameters() {
  fc1_->reset_parameters();
  fc2_->reset_parameters();
}

torch::Tensor DiffusionTimeMLPImpl::forward(const torch::Tensor& t) {
  const auto emb = embedding_(t, fc1_->weight.scalar_type());
  return fc2_(torch::silu(fc1_(emb)));
}

}  // namespace hemeplm::model
