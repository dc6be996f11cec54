// Per-molecule scalar property heads (HOMO-LUMO gap, ...) on the ViSNet backbone output: for each
// property a gated equivariant head (the EquivariantScalar of the energy model: two
// GatedEquivariantBlocks, H -> H/2 -> 1) gives an invariant per-atom value; the molecule's value is the
// MEAN over its atoms in standardised units, and the physical value is std * y + mean with per-head
// buffers (they live in checkpoints). Invariant to rotations and translations because the head reads
// only the backbone's invariant scalars and the norms of its equivariant vectors.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/model/atom_graph.hpp"
#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {

/// One property: head + standardisation buffers "mean" and "std" (scalars, physical units).
class PropertyHeadImpl : public torch::nn::Module {
 public:
  explicit PropertyHeadImpl(std::int64_t hidden);
  void reset_parameters();
  /// Standardised per-graph values [B] from backbone features of the graphs' atoms.
  torch::Tensor forward(const ViSNetOutput& features, const torch::Tensor& batch, std::int64_t graph_count);
  void set_standardization(double mean, double std);
  std::pair<double, double> standardization() const;
  const torch::Tensor& mean_buffer() const { return mean_; }
  const torch::Tensor& std_buffer() const { return std_; }

 private:
  EquivariantScalar head_{nullptr};
  torch::Tensor mean_, std_;
};
TORCH_MODULE(PropertyHead);

/// All property heads of a model, registered under their names (property_heads.<name>.head.*,
/// property_heads.<name>.mean/std), in the order of `names`.
class PropertyHeadsImpl : public torch::nn::Module {
 public:
  /// UsageError for an empty list or a repeated name.
  PropertyHeadsImpl(const std::vector<std::string>& names, std::int64_t hidden);
  void reset_parameters();

  const std::vector<std::string>& names() const { return names_; }
  std::int64_t count() const { return static_cast<std::int64_t>(names_.size()); }
  /// Index of `name` in names(), or -1.
  std::int64_t index_of(const std::string& name) const;

  /// [B, P] standardised per-graph values.
  torch::Tensor standardised(const ViSNetOutput& features, const torch::Tensor& batch,
                             std::int64_t graph_count);
  /// std * y + mean per column: [B, P] standardised -> physical.
  torch::Tensor to_physical(const torch::Tensor& standardised) const;
  /// (value - mean) / std per column: [B, P] physical (e.g. labels) -> standardised.
  torch::Tensor to_standardised(const torch::Tensor& physical) const;

  /// (mean, std) per head, in names() order; UsageError for a wrong count or std <= 0.
  void set_standardization(const std::vector<std::pair<double, double>>& statistics);
  std::vector<std::pair<double, double>> standardization() const;

 private:
  std::vector<std::string> names_;
  std::vector<PropertyHead> heads_;
  torch::Tensor means() const;  ///< [P]
  torch::Tensor stds() const;   ///< [P]
};
TORCH_MODULE(PropertyHeads);

}  // namespace hemeplm::model
