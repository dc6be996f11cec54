// Torch tensors <-> checkpoint records, shared by module state, AdamW state and weight EMA.
#include "tensor_records.hpp"

#include <cstring>
#include <optional>
#include <utility>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

using parallel_io::DType;
using parallel_io::TensorRecord;
using parallel_io::TensorSpec;

std::optional<DType> checkpoint_dtype(torch::ScalarType type) {
  switch (type) {
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
      return std::nullopt;
  }
}

/// The torch dtype the record's bytes are read as (bool tensors are filled from uint8).
torch::ScalarType torch_dtype(DType dtype) {
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

std::size_t byte_count(const TensorRecord& record) {
  std::size_t count = parallel_io::dtype_size(record.dtype);
  for (const std::int64_t extent : record.shape) count *= static_cast<std::size_t>(extent);
  return count;
}

}  // namespace

DType record_dtype(const std::string& context, const std::string& name, const torch::Tensor& tensor) {
  if (tensor.is_sparse())
    throw UsageError(context + ": tensor '" + name + "' is sparse; only dense tensors can be checkpointed");
  if (const std::optional<DType> dtype = checkpoint_dtype(tensor.scalar_type())) return *dtype;
  throw UsageError(
      context + ": tensor '" + name + "' has dtype " + std::string(c10::toString(tensor.scalar_type())) +
      ", which the checkpoint format does not hold (float32, float64, int64, int32, uint8, bool)");
}

DType float_record_dtype(const std::string& context, const std::string& name, const torch::Tensor& tensor,
                         const std::string& purpose) {
  const std::optional<DType> dtype = checkpoint_dtype(tensor.scalar_type());
  if (dtype == DType::kFloat32 || dtype == DType::kFloat64) return *dtype;
  throw UsageError(context + ": parameter '" + name + "' has dtype " +
                   std::string(c10::toString(tensor.scalar_type())) +
                   "; only float32 and float64 parameters can be " + purpose + " and checkpointed");
}

std::vector<std::int64_t> shape_of(const torch::Tensor& tensor) {
  return std::vector<std::int64_t>(tensor.sizes().begin(), tensor.sizes().end());
}

TensorSpec tensor_spec(const std::string& name, DType dtype, const torch::Tensor& tensor) {
  return {name, dtype, shape_of(tensor)};
}

TensorRecord tensor_record(const std::string& name, DType dtype, const torch::Tensor& tensor) {
  TensorRecord record;
  record.name = name;
  record.dtype = dtype;
  record.shape = shape_of(tensor);
  // detach: saving reads values only and must not record anything in the autograd graph.
  const torch::Tensor host = tensor.detach().to(torch::kCPU).contiguous();
  record.data.resize(static_cast<std::size_t>(host.numel()) * parallel_io::dtype_size(dtype));
  if (!record.data.empty()) std::memcpy(record.data.data(), host.data_ptr(), record.data.size());
  return record;
}

TensorRecord count_record(const std::string& name, std::int64_t count) {
  TensorRecord record;
  record.name = name;
  record.dtype = DType::kInt64;
  record.shape = {1};
  record.data.resize(sizeof(std::int64_t));
  std::memcpy(record.data.data(), &count, sizeof(std::int64_t));
  return record;
}

std::map<std::string, const TensorRecord*> index_records(const std::vector<TensorRecord>& records,
                                                         std::vector<std::string>& problems) {
  std::map<std::string, const TensorRecord*> by_name;
  for (const TensorRecord& record : records) {
    if (record.data.size() != byte_count(record))
      problems.push_back("'" + record.name + "' holds " + std::to_string(record.data.size()) +
                         " bytes, its shape and dtype need " + std::to_string(byte_count(record)));
    by_name.emplace(record.name, &record);
  }
  return by_name;
}

std::int64_t read_count(const TensorRecord& record, std::vector<std::string>& problems) {
  std::int64_t count = 0;
  if (record.data.size() != sizeof(std::int64_t)) return count;  // reported by index_records
  std::memcpy(&count, record.data.data(), sizeof(std::int64_t));
  if (count < 0) problems.push_back("'" + record.name + "' is negative (" + std::to_string(count) + ")");
  return count;
}

void throw_problems(const std::string& source_path, const std::string& context,
                    const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string message = context + ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  throw InputError(source_path, message);
}

void copy_record_into(const torch::Tensor& target, const TensorRecord& record) {
  if (record.data.empty()) return;  // zero elements: nothing to copy
  // from_blob only reads here (copy_ from it); the const_cast is what its void* signature needs.
  const torch::Tensor source = torch::from_blob(const_cast<unsigned char*>(record.data.data()), record.shape,
                                                torch::TensorOptions().dtype(torch_dtype(record.dtype)));
  target.copy_(source);
}

}  // namespace hemeplm::train
