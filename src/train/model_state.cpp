// Module parameters and buffers <-> checkpoint records (the tensor <-> bytes conversion is in
// tensor_records).
#include "hemeplm/train/model_state.hpp"

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <set>

#include "hemeplm/core/error.hpp"
#include "tensor_records.hpp"

namespace hemeplm::train {
namespace {

using parallel_io::DType;
using parallel_io::TensorRecord;
using parallel_io::TensorSpec;

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};

/// Parameters, then buffers, each in torch's recursive registration order. Undefined buffers (a module
/// may register an empty slot) hold no state and are left out on both sides, as torch's state_dict does.
std::vector<NamedTensor> named_state(const torch::nn::Module& module) {
  std::vector<NamedTensor> state;
  std::set<std::string> names;
  const auto add = [&](const std::string& name, const torch::Tensor& tensor) {
    if (!tensor.defined()) return;
    // Parameters and buffers live in separate dictionaries in torch, so a clash is possible in
    // principle; the checkpoint has one namespace for both.
    if (!names.insert(name).second)
      throw UsageError("module state: tensor name '" + name + "' is used by a parameter and a buffer");
    state.push_back({name, tensor});
  };
  for (const auto& item : module.named_parameters(/*recurse=*/true)) add(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) add(item.key(), item.value());
  return state;
}

DType checkpoint_dtype(const NamedTensor& item) {
  return record_dtype("module state", item.name, item.tensor);
}

std::vector<TensorSpec> specs_of(const std::vector<NamedTensor>& state) {
  std::vector<TensorSpec> specs;
  specs.reserve(state.size());
  for (const NamedTensor& item : state)
    specs.push_back(tensor_spec(item.name, checkpoint_dtype(item), item.tensor));
  return specs;
}

}  // namespace

std::vector<TensorRecord> module_state_records(const torch::nn::Module& module) {
  std::vector<TensorRecord> records;
  for (const NamedTensor& item : named_state(module))
    records.push_back(tensor_record(item.name, checkpoint_dtype(item), item.tensor));
  return records;
}

std::vector<TensorSpec> module_state_specs(const torch::nn::Module& module) {
  return specs_of(named_state(module));
}

void load_module_state(torch::nn::Module& module, const std::vector<TensorRecord>& records,
                       const std::string& source_path) {
  const std::vector<NamedTensor> state = named_state(module);
  parallel_io::check_tensors(source_path, records, specs_of(state));
  // Byte counts are checked before the first copy: a failed load leaves the module as it was.
  std::vector<std::string> problems;
  const auto by_name = index_records(records, problems);
  throw_problems(source_path, "module state", problems);

  // In-place copies of leaf tensors that require grad are only allowed outside autograd; the guard
  // also keeps requires_grad and the tensors' identity (optimizers hold references to them).
  torch::NoGradGuard no_grad;
  for (const NamedTensor& item : state) copy_record_into(item.tensor, *by_name.at(item.name));
}

void save_module(const std::string& path, const torch::nn::Module& module, const std::string& config_json,
                 std::int64_t step) {
  parallel_io::Checkpoint checkpoint;
  checkpoint.parameters = module_state_records(module);
  checkpoint.config_json = config_json;
  checkpoint.step = step;
  checkpoint.program_version = std::string("hemeplm ") + HEMEPLM_VERSION;
  parallel_io::write_checkpoint(path, checkpoint);
}

void load_module(const std::string& path, torch::nn::Module& module) {
  load_module_state(module, parallel_io::read_checkpoint(path).parameters, path);
}

}  // namespace hemeplm::train
