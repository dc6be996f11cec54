// AdamW with named raw-tensor state. The arithmetic follows torch::optim::AdamW (and the single-tensor
// path of torch.optim.AdamW) operation for operation, so a run is the same with either and with any
// LibTorch version; the state is plain tensors so that checkpoints restore it bit for bit.
#include "hemeplm/train/optimizer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <set>

#include "hemeplm/core/error.hpp"
#include "tensor_records.hpp"

namespace hemeplm::train {

using parallel_io::DType;
using parallel_io::TensorRecord;
using parallel_io::TensorSpec;

AdamW::AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters,
             const AdamWOptions& options)
    : options_(options) {
  if (!(options.beta1 >= 0.0 && options.beta1 < 1.0) || !(options.beta2 >= 0.0 && options.beta2 < 1.0))
    throw UsageError("AdamW: betas must lie in [0, 1), got beta1 = " + std::to_string(options.beta1) +
                     ", beta2 = " + std::to_string(options.beta2));
  if (!(options.eps >= 0.0)) throw UsageError("AdamW: eps must be >= 0, got " + std::to_string(options.eps));
  if (!(options.weight_decay >= 0.0))
    throw UsageError("AdamW: weight_decay must be >= 0, got " + std::to_string(options.weight_decay));
  std::set<std::string> seen;
  for (const auto& [name, param] : named_parameters) {
    if (name.empty()) throw UsageError("AdamW: a parameter has an empty name");
    if (!param.defined()) throw UsageError("AdamW: parameter '" + name + "' is undefined");
    if (!param.requires_grad()) continue;
    if (!seen.insert(name).second) throw UsageError("AdamW: parameter name '" + name + "' is used twice");
    float_record_dtype("AdamW", name, param, "optimised");  // validates the dtype
    Slot slot;
    slot.name = name;
    slot.param = param;
    slot.exp_avg = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    slot.exp_avg_sq = torch::zeros_like(param, torch::MemoryFormat::Preserve);
    slots_.push_back(std::move(slot));
    names_.push_back(name);
  }
}

void AdamW::step(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw UsageError("AdamW: learning rate must be finite and >= 0, got " + std::to_string(lr));
  torch::NoGradGuard no_grad;
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  for (Slot& slot : slots_) {
    torch::Tensor& p = slot.param;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    if (grad.is_sparse()) throw UsageError("AdamW: parameter '" + slot.name + "' has a sparse gradient");
    // Same operations, in the same order, as torch::optim::AdamW::step (LibTorch 1.13 and 2.x).
    if (options_.weight_decay != 0) p.mul_(1 - lr * options_.weight_decay);
    slot.step += 1;
    const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(slot.step));
    const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(slot.step));
    slot.exp_avg.mul_(beta1).add_(grad, 1 - beta1);
    slot.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const torch::Tensor denom = (slot.exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(options_.eps);
    const double step_size = lr / bias_correction1;
    p.addcdiv_(slot.exp_avg, denom, -step_size);
  }
}

void AdamW::zero_grad() {
  for (Slot& slot : slots_) slot.param.mutable_grad() = torch::Tensor();
}

const std::vector<std::string>& AdamW::names() const {
  return names_;
}

std::vector<torch::Tensor> AdamW::parameters() const {
  std::vector<torch::Tensor> params;
  params.reserve(slots_.size());
  for (const Slot& slot : slots_) params.push_back(slot.param);
  return params;
}

std::vector<TensorSpec> AdamW::state_specs() const {
  std::vector<TensorSpec> specs;
  specs.reserve(3 * slots_.size());
  for (const Slot& slot : slots_) {
    const DType dtype = float_record_dtype("AdamW", slot.name, slot.param, "optimised");
    specs.push_back(tensor_spec("exp_avg/" + slot.name, dtype, slot.param));
    specs.push_back(tensor_spec("exp_avg_sq/" + slot.name, dtype, slot.param));
    specs.push_back({"step/" + slot.name, DType::kInt64, {1}});
  }
  return specs;
}

std::vector<TensorRecord> AdamW::state_records() const {
  std::vector<TensorRecord> records;
  records.reserve(3 * slots_.size());
  for (const Slot& slot : slots_) {
    const DType dtype = float_record_dtype("AdamW", slot.name, slot.param, "optimised");
    records.push_back(tensor_record("exp_avg/" + slot.name, dtype, slot.exp_avg));
    records.push_back(tensor_record("exp_avg_sq/" + slot.name, dtype, slot.exp_avg_sq));
    records.push_back(count_record("step/" + slot.name, slot.step));
  }
  return records;
}

void AdamW::load_state_records(const std::vector<TensorRecord>& records, const std::string& source_path) {
  parallel_io::check_tensors(source_path, records, state_specs());
  // Everything is validated before the first write, so a failed load leaves the optimizer as it was.
  std::vector<std::string> problems;
  const auto by_name = index_records(records, problems);
  std::vector<std::int64_t> steps(slots_.size(), 0);
  for (std::size_t i = 0; i < slots_.size(); ++i)
    steps[i] = read_count(*by_name.at("step/" + slots_[i].name), problems);
  throw_problems(source_path, "optimizer state", problems);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    copy_record_into(slot.exp_avg, *by_name.at("exp_avg/" + slot.name));
    copy_record_into(slot.exp_avg_sq, *by_name.at("exp_avg_sq/" + slot.name));
    slot.step = steps[i];
  }
}

double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& param : parameters)
    if (param.defined() && param.grad().defined()) grads.push_back(param.grad());
  if (grads.empty()) return 0.0;
  torch::NoGradGuard no_grad;
  // As torch.nn.utils.clip_grad_norm_: the norm of the per-tensor norms, here in float64 throughout.
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (const torch::Tensor& grad : grads) norms.push_back(grad.detach().to(torch::kFloat64).norm());
  const torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm();
  const double norm = total.item<double>();
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double coefficient = max_norm / (norm + 1e-6);
    for (torch::Tensor& grad : grads) grad.mul_(coefficient);
  }
  return norm;
}

bool gradients_finite(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& param : parameters) {
    if (!param.defined()) continue;
    const torch::Tensor& grad = param.grad();
    if (!grad.defined()) continue;
    if (!torch::isfinite(grad).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace hemeplm::train
