// Per-molecule property heads (see property_heads.hpp).
#include "hemeplm/model/property_heads.hpp"

#include <torch/torch.h>

#include <set>

#include "hemeplm/core/error.hpp"

namespace hemeplm::model {

PropertyHeadImpl::PropertyHeadImpl(std::int64_t hidden) {
  head_ = register_module("head", EquivariantScalar(hidden));
  mean_ = register_buffer("mean", torch::zeros({}));
  std_ = register_buffer("std", torch::ones({}));
}

void PropertyHeadImpl::reset_parameters() {
  head_->reset_parameters();
}

torch::Tensor PropertyHeadImpl::forward(const ViSNetOutput& features, const torch::Tensor& batch,
                                        std::int64_t graph_count) {
  const auto y = head_(features.x, features.v);  // [N] invariant per-atom values
  // Mean, not sum, over the graph's atoms: properties such as the HOMO-LUMO gap are intensive (they do
  // not grow with the molecule), so a sum would tie the prediction to the atom count.
  const auto sums = torch::zeros({graph_count}, y.options()).index_add(0, batch, y);
  const auto atoms = torch::zeros({graph_count}, y.options()).index_add(0, batch, torch::ones_like(y));
  return sums / atoms.clamp_min(1);
}

void PropertyHeadImpl::set_standardization(double mean, double std) {
  torch::NoGradGuard no_grad;
  mean_.fill_(mean);
  std_.fill_(std);
}

std::pair<double, double> PropertyHeadImpl::standardization() const {
  return {mean_.item<double>(), std_.item<double>()};
}

PropertyHeadsImpl::PropertyHeadsImpl(const std::vector<std::string>& names, std::int64_t hidden)
    : names_(names) {
  if (names_.empty()) throw UsageError("property heads: no property names given");
  std::set<std::string> seen;
  for (const auto& name : names_) {
    if (!seen.insert(name).second) throw UsageError("property heads: '" + name + "' is listed twice");
    heads_.push_back(register_module(name, PropertyHead(hidden)));
  }
}

void PropertyHeadsImpl::reset_parameters() {
  for (auto& head : heads_) head->reset_parameters();
}

std::int64_t PropertyHeadsImpl::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<std::int64_t>(i);
  return -1;
}

torch::Tensor PropertyHeadsImpl::standardised(const ViSNetOutput& features, const torch::Tensor& batch,
                                              std::int64_t graph_count) {
  std::vector<torch::Tensor> columns;
  for (auto& head : heads_) columns.push_back(head(features, batch, graph_count));
  return torch::stack(columns, 1);
}

torch::Tensor PropertyHeadsImpl::means() const {
  std::vector<torch::Tensor> values;
  for (const auto& head : heads_) values.push_back(head->mean_buffer());
  return torch::stack(values);
}

torch::Tensor PropertyHeadsImpl::stds() const {
  std::vector<torch::Tensor> values;
  for (const auto& head : heads_) values.push_back(head->std_buffer());
  return torch::stack(values);
}

torch::Tensor PropertyHeadsImpl::to_physical(const torch::Tensor& standardised) const {
  return standardised * stds().to(standardised.options()) + means().to(standardised.options());
}

torch::Tensor PropertyHeadsImpl::to_standardised(const torch::Tensor& physical) const {
  return (physical - means().to(physical.options())) / stds().to(physical.options());
}

void PropertyHeadsImpl::set_standardization(const std::vector<std::pair<double, double>>& statistics) {
  if (statistics.size() != names_.size())
    throw UsageError("property heads: " + std::to_string(statistics.size()) + " standardisation pairs for " +
                     std::to_string(names_.size()) + " heads");
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (!(statistics[i].second > 0))
      throw UsageError("property heads: standard deviation of '" + names_[i] + "' must be > 0 (got " +
                       std::to_string(statistics[i].second) + ")");
    heads_[i]->set_standardization(statistics[i].first, statistics[i].second);
  }
}

std::vector<std::pair<double, double>> PropertyHeadsImpl::standardization() const {
  std::vector<std::pair<double, double>> out;
  for (const auto& head : heads_) out.push_back(head->standardization());
  return out;
}

}  // namespace hemeplm::model
