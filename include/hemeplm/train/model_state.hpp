// The torch <-> checkpoint adapter: the parameters and buffers of a module tree become the named raw
// tensors of the I/O layer's checkpoint format and come back bit for bit. Names are torch's dotted
// module-tree names ("energy_model.backbone.layer0.q_proj.weight"), so a checkpoint loads into any module
// with the same tree, whatever its device. Torch-free header: callers that only pass a module through (the
// CLI, the trainer's checkpoint code) do not pay for the LibTorch headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/parallel_io/checkpoint.hpp"

namespace torch {
namespace nn {
class Module;
}  // namespace nn
}  // namespace torch

namespace hemeplm::train {

/// Every defined parameter and buffer of the module tree (parameters first, then buffers, each in
/// registration order, recursively), as contiguous row-major CPU bytes. Supported dtypes: float32,
/// float64, int64, int32, uint8 and bool (stored as uint8 0/1). UsageError naming the tensor for any
/// other dtype, a sparse tensor or a name used twice.
std::vector<parallel_io::TensorRecord> module_state_records(const torch::nn::Module& module);

/// Names, dtypes and shapes of module_state_records(module), without copying any data.
std::vector<parallel_io::TensorSpec> module_state_specs(const torch::nn::Module& module);

/// Copies `records` (read from `source_path`) into the module's parameters and buffers, on the
/// module's device, without touching requires_grad. All-or-nothing: every missing, unexpected,
/// mis-shaped or mis-typed tensor is reported at once as one InputError naming `source_path`, and
/// then the module is left unchanged.
void load_module_state(torch::nn::Module& module, const std::vector<parallel_io::TensorRecord>& records,
                       const std::string& source_path);

/// Writes a checkpoint (atomically) holding the module state in /parameters, `config_json` and `step`.
void save_module(const std::string& path, const torch::nn::Module& module,
                 const std::string& config_json = "{}", std::int64_t step = 0);

/// Reads the checkpoint at `path` and loads its /parameters into `module` (load_module_state).
void load_module(const std::string& path, torch::nn::Module& module);

}  // namespace hemeplm::train
