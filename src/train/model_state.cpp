// Module parameters and buffers <-> checkpoint records. The I/O layer only sees bytes; this file is
// where torch dtypes, devices and autograd flags meet them.
#include "hemeplm/train/model_state.hpp"

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "hemeplm/core/error.hpp"

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

DType checkpoint_dtype(const std::string& name, const torch::Tensor& tensor) {
  if (tensor.is_sparse())
    throw UsageError("module state: tensor '" + name + "' is sparse; only dense tensors can be checkpointed");
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      return DType::kFloat32;
    case torch::kFloat64:
      return DType::kFloat64;
    case torch::kInt64:
      return DType::kInt64;
    case torch::kInt32:
      return DType::kInt32;
    case torch::kUInt8:
    case torch::kBool:
      return DType::kUInt8;  // torch stores bool as one byte, 0 or 1
    default:
      throw UsageError("module state: tensor '" + name + "' has dtype " +
                       std::string(c10::toString(tensor.scalar_type())) +
                       ", which the checkpoint format does not hold (float32, float64, int64, int32, "
                       "uint8, bool)");
  }
}

/// The torch dtype the record's bytes are read as (bool tensors are filled from uint8).
torch::ScalarType byte_dtype(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return torch::kFloat32;
    case DType::kFloat64:
      return torch::kFloat64;
    case DType::kInt64:
      return torch::kInt64;
    case DType::kInt32:
      return torch::kInt32;
    case DType::kUInt8:
      return torch::kUInt8;
  }
  return torch::kUInt8;  // unreachable: every enumerator is handled above
}

std::vector<std::int64_t> shape_of(const torch::Tensor& tensor) {
  return std::vector<std::int64_t>(tensor.sizes().begin(), tensor.sizes().end());
}

std::size_t element_count(const std::vector<std::int64_t>& shape) {
  std::size_t count = 1;
  for (const std::int64_t extent : shape) count *= static_cast<std::size_t>(extent);
  return count;
}

}  // namespace

std::vector<TensorRecord> module_state_records(const torch::nn::Module& module) {
  std::vector<TensorRecord> records;
  for (const NamedTensor& item : named_state(module)) {
    TensorRecord record;
    record.name = item.name;
    record.dtype = checkpoint_dtype(item.name, item.tensor);
    record.shape = shape_of(item.tensor);
    // detach: saving reads values only and must not record anything in the autograd graph.
    const torch::Tensor host = item.tensor.detach().to(torch::kCPU).contiguous();
    record.data.resize(static_cast<std::size_t>(host.numel()) * parallel_io::dtype_size(record.dtype));
    if (!record.data.empty()) std::memcpy(record.data.data(), host.data_ptr(), record.data.size());
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<TensorSpec> module_state_specs(const torch::nn::Module& module) {
  std::vector<TensorSpec> specs;
  for (const NamedTensor& item : named_state(module))
    specs.push_back({item.name, checkpoint_dtype(item.name, item.tensor), shape_of(item.tensor)});
  return specs;
}

void load_module_state(torch::nn::Module& module, const std::vector<TensorRecord>& records,
                       const std::string& source_path) {
  const std::vector<NamedTensor> state = named_state(module);
  std::vector<TensorSpec> specs;
  specs.reserve(state.size());
  for (const NamedTensor& item : state)
    specs.push_back({item.name, checkpoint_dtype(item.name, item.tensor), shape_of(item.tensor)});
  parallel_io::check_tensors(source_path, records, specs);

  std::map<std::string, const TensorRecord*> by_name;
  for (const TensorRecord& record : records) {
    // Records need not come from read_checkpoint, so their byte counts are checked before the first
    // copy: a failed load leaves the module as it was.
    const std::size_t expected = element_count(record.shape) * parallel_io::dtype_size(record.dtype);
    if (record.data.size() != expected)
      throw InputError(source_path, "tensor '" + record.name + "'",
                       "holds " + std::to_string(record.data.size()) + " bytes, its shape and dtype need " +
                           std::to_string(expected));
    by_name.emplace(record.name, &record);
  }

  // In-place copies of leaf tensors that require grad are only allowed outside autograd; the guard
  // also keeps requires_grad and the tensors' identity (optimizers hold references to them).
  torch::NoGradGuard no_grad;
  for (const NamedTensor& item : state) {
    const TensorRecord& record = *by_name.at(item.name);
    if (record.data.empty()) continue;  // zero elements: nothing to copy
    // from_blob only reads here (copy_ from it); the const_cast is what its void* signature needs.
    const torch::Tensor source =
        torch::from_blob(const_cast<unsigned char*>(record.data.data()), record.shape,
                         torch::TensorOptions().dtype(byte_dtype(record.dtype)));
    // copy_ converts uint8 -> bool and CPU -> the tensor's device, keeping the tensor's strides.
    item.tensor.copy_(source);
  }
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
