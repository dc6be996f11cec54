// Internal to the training layer: torch tensors <-> the checkpoint format's named raw records. The I/O
// layer only sees bytes; these helpers are where torch dtypes, devices and autograd flags meet them, for
// module state, optimizer state and EMA shadows alike. Messages start with the caller's `context`
// (e.g. "module state", "AdamW", "weight EMA").
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::train {

/// The checkpoint dtype of a dense tensor of any dtype the format holds; bool is stored as uint8 0/1.
/// UsageError naming the tensor for sparse tensors and other dtypes.
parallel_io::DType record_dtype(const std::string& context, const std::string& name,
                                const torch::Tensor& tensor);

/// The checkpoint dtype of a float32 or float64 parameter; UsageError for any other dtype, saying that
/// only those can be `purpose` (e.g. "optimised") and checkpointed.
parallel_io::DType float_record_dtype(const std::string& context, const std::string& name,
                                      const torch::Tensor& tensor, const std::string& purpose);

std::vector<std::int64_t> shape_of(const torch::Tensor& tensor);

/// What a checkpoint must hold for `tensor` saved under `name` as `dtype`.
parallel_io::TensorSpec tensor_spec(const std::string& name, parallel_io::DType dtype,
                                    const torch::Tensor& tensor);

/// The tensor's values as contiguous CPU bytes of `dtype` (whose size must match the tensor's element
/// size). Reads values only: nothing is recorded in the autograd graph.
parallel_io::TensorRecord tensor_record(const std::string& name, parallel_io::DType dtype,
                                        const torch::Tensor& tensor);

/// A one-element int64 record (a step or update count).
parallel_io::TensorRecord count_record(const std::string& name, std::int64_t count);

/// Records by name, for records that passed parallel_io::check_tensors. Records need not come from
/// read_checkpoint, so each one whose byte count does not match its shape and dtype adds a problem.
std::map<std::string, const parallel_io::TensorRecord*> index_records(
    const std::vector<parallel_io::TensorRecord>& records, std::vector<std::string>& problems);

/// The count held by a count_record; 0 when its byte count is wrong (index_records reported that). A
/// negative count adds a problem.
std::int64_t read_count(const parallel_io::TensorRecord& record, std::vector<std::string>& problems);

/// InputError naming `source_path` and listing every problem, when there is any.
void throw_problems(const std::string& source_path, const std::string& context,
                    const std::vector<std::string>& problems);

/// Copies the record's values into `target` in place (CPU -> its device, uint8 -> bool, keeping its
/// strides and identity); nothing for zero elements. Leaf tensors that require grad need a NoGradGuard.
void copy_record_into(const torch::Tensor& target, const parallel_io::TensorRecord& record);

}  // namespace hemeplm::train
