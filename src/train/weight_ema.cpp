// Exponential moving average of parameters, with checkpointable shadow values.
#include "hemeplm/train/weight_ema.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "hemeplm/core/error.hpp"
#include "tensor_records.hpp"

namespace hemeplm::train {

using parallel_io::DType;
using parallel_io::TensorRecord;
using parallel_io::TensorSpec;

WeightEma::WeightEma(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters, double decay,
                     bool warmup)
    : decay_(decay), warmup_(warmup) {
  if (!(decay >= 0.0 && decay < 1.0))
    throw UsageError("weight EMA: decay must lie in [0, 1), got " + std::to_string(decay));
  std::set<std::string> seen;
  torch::NoGradGuard no_grad;
  for (const auto& [name, param] : named_parameters) {
    if (name.empty()) throw UsageError("weight EMA: a parameter has an empty name");
    if (name == "updates") throw UsageError("weight EMA: parameter name 'updates' is reserved");
    if (!param.defined()) throw UsageError("weight EMA: parameter '" + name + "' is undefined");
    if (!seen.insert(name).second)
      throw UsageError("weight EMA: parameter name '" + name + "' is used twice");
    float_record_dtype("weight EMA", name, param, "averaged");  // validates the dtype
    names_.push_back(name);
    params_.push_back(param);
    shadows_.push_back(param.detach().clone());
  }
}

double WeightEma::current_decay() const {
  if (!warmup_) return decay_;
  const double n = static_cast<double>(updates_);
  return std::min(decay_, (1.0 + n) / (10.0 + n));
}

void WeightEma::update() {
  if (swapped_)
    throw UsageError("weight EMA: update() while the EMA weights are swapped in; swap() back first");
  torch::NoGradGuard no_grad;
  const double decay = current_decay();
  for (std::size_t i = 0; i < params_.size(); ++i) shadows_[i].mul_(decay).add_(params_[i], 1.0 - decay);
  ++updates_;
}

std::int64_t WeightEma::updates() const {
  return updates_;
}

void WeightEma::swap() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor live = params_[i].detach().clone();
    params_[i].copy_(shadows_[i]);
    shadows_[i].copy_(live);
  }
  swapped_ = !swapped_;
}

std::vector<TensorSpec> WeightEma::state_specs() const {
  std::vector<TensorSpec> specs;
  specs.reserve(params_.size() + 1);
  for (std::size_t i = 0; i < params_.size(); ++i)
    specs.push_back(tensor_spec(
        names_[i], float_record_dtype("weight EMA", names_[i], params_[i], "averaged"), params_[i]));
  specs.push_back({"updates", DType::kInt64, {1}});
  return specs;
}

std::vector<TensorRecord> WeightEma::state_records() const {
  std::vector<TensorRecord> records;
  records.reserve(params_.size() + 1);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& shadow = swapped_ ? params_[i] : shadows_[i];
    records.push_back(tensor_record(
        names_[i], float_record_dtype("weight EMA", names_[i], params_[i], "averaged"), shadow));
  }
  records.push_back(count_record("updates", updates_));
  return records;
}

void WeightEma::load_state_records(const std::vector<TensorRecord>& records, const std::string& source_path) {
  parallel_io::check_tensors(source_path, records, state_specs());
  std::vector<std::string> problems;
  const auto by_name = index_records(records, problems);
  const std::int64_t loaded_updates = read_count(*by_name.at("updates"), problems);
  throw_problems(source_path, "EMA state", problems);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i)
    copy_record_into(swapped_ ? params_[i] : shadows_[i], *by_name.at(names_[i]));
  updates_ = loaded_updates;
}

}  // namespace hemeplm::train
