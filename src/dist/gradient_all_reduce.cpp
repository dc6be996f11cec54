// Bucketed gradient averaging (DDP-style) and the parameter broadcast of data-parallel training.
#include "hemeplm/dist/gradient_all_reduce.hpp"

#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::dist {

GradientAllReduce::GradientAllReduce(std::vector<torch::Tensor> parameters, std::size_t bucket_bytes)
    : parameters_(std::move(parameters)), bucket_bytes_limit_(bucket_bytes) {
  std::size_t current_bytes = 0;
  for (std::size_t i = parameters_.size(); i-- > 0;) {
    const torch::Tensor& p = parameters_[i];
    if (!p.defined()) throw UsageError("GradientAllReduce: parameter " + std::to_string(i) + " is undefined");
    if (!p.requires_grad()) continue;
    const std::size_t bytes = static_cast<std::size_t>(p.numel()) * p.element_size();
    bool open_new = bucket_parameters_.empty();
    if (!open_new) {
      const torch::Tensor& last = parameters_[bucket_parameters_.back().back()];
      open_new = last.scalar_type() != p.scalar_type() || last.device() != p.device() ||
                 current_bytes + bytes > bucket_bytes_limit_;
    }
    if (open_new) {
      bucket_parameters_.emplace_back();
      current_bytes = 0;
    }
    bucket_parameters_.back().push_back(i);
    current_bytes += bytes;
  }

  buckets_.reserve(bucket_parameters_.size());
  for (const auto& indices : bucket_parameters_) {
    Bucket bucket;
    std::int64_t total = 0;
    for (std::size_t i : indices) {
      bucket.offsets.push_back(total);
      total += parameters_[i].numel();
    }
    const torch::Tensor& first = parameters_[indices.front()];
    bucket.buffer =
        torch::zeros({total}, torch::TensorOptions().dtype(first.scalar_type()).device(first.device()));
    buckets_.push_back(std::move(bucket));
  }
}

std::size_t GradientAllReduce::bucket_bytes(std::size_t bucket) const {
  const torch::Tensor& buffer = buckets_.at(bucket).buffer;
  return static_cast<std::size_t>(buffer.numel()) * buffer.element_size();
}

double GradientAllReduce::all_reduce_mean(Communicator& comm) {
  torch::NoGradGuard no_grad;
  const int size = comm.size();
  double seconds = 0.0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    const std::vector<std::size_t>& indices = bucket_parameters_[b];
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const torch::Tensor& p = parameters_[indices[k]];
      torch::Tensor segment = bucket.buffer.narrow(0, bucket.offsets[k], p.numel());
      const torch::Tensor& grad = p.grad();
      if (!grad.defined()) {
        segment.zero_();
      } else if (grad.sizes() != p.sizes()) {
        throw Error("GradientAllReduce: the gradient of parameter " + std::to_string(indices[k]) +
                    " has a different shape than the parameter");
      } else {
        segment.view(p.sizes()).copy_(grad);
      }
    }

    const auto start = std::chrono::steady_clock::now();
    comm.all_reduce_sum(bucket.buffer);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (size > 1) bucket.buffer.div_(static_cast<double>(size));

    for (std::size_t k = 0; k < indices.size(); ++k) {
      torch::Tensor& p = parameters_[indices[k]];
      const torch::Tensor mean = bucket.buffer.narrow(0, bucket.offsets[k], p.numel()).view(p.sizes());
      if (p.grad().defined())
        p.grad().copy_(mean);
      else
        p.mutable_grad() = mean.clone();  // own storage: the bucket buffer is reused by the next call
    }
  }
  return seconds;
}

namespace {

// FNV-1a over the layout (count, and dtype, device type and shape of each tensor).
std::int64_t layout_signature(const std::vector<torch::Tensor>& tensors) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::int64_t v) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= static_cast<std::uint64_t>(v >> (8 * byte)) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  mix(static_cast<std::int64_t>(tensors.size()));
  for (const torch::Tensor& t : tensors) {
    mix(static_cast<std::int64_t>(t.scalar_type()));
    mix(static_cast<std::int64_t>(t.device().type()));
    mix(t.dim());
    for (std::int64_t extent : t.sizes()) mix(extent);
  }
  return static_cast<std::int64_t>(h);
}

}  // namespace

void broadcast_tensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root) {
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].defined())
      throw UsageError("broadcast_tensors: tensor " + std::to_string(i) + " is undefined");
  torch::NoGradGuard no_grad;

  // Every rank must pass the same layout; check it collectively so that all ranks throw together.
  const torch::Device home = tensors.empty() ? torch::Device(torch::kCPU) : tensors.front().device();
  const auto int64_on_home = torch::TensorOptions().dtype(torch::kLong).device(home);
  const std::int64_t mine = layout_signature(tensors);
  torch::Tensor signature = torch::full({1}, mine, int64_on_home);
  comm.broadcast(signature, root);
  torch::Tensor differs = torch::full({1}, signature.item<std::int64_t>() == mine ? 0 : 1, int64_on_home);
  comm.all_reduce_sum(differs);
  if (const std::int64_t n = differs.item<std::int64_t>(); n > 0)
    throw UsageError("broadcast_tensors: " + std::to_string(n) +
                     " rank(s) passed tensors whose count, dtypes " + "or shapes differ from rank " +
                     std::to_string(root) + "'s");

  // Groups of one dtype and device, in order of first appearance; one flat buffer and broadcast each.
  struct Group {
    torch::ScalarType type;
    torch::Device device;
    std::vector<std::size_t> members;
    std::int64_t numel = 0;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    Group* group = nullptr;
    for (Group& g : groups)
      if (g.type == t.scalar_type() && g.device == t.device()) group = &g;
    if (group == nullptr) group = &groups.emplace_back(Group{t.scalar_type(), t.device(), {}, 0});
    group->members.push_back(i);
    group->numel += t.numel();
  }

  const bool is_root = comm.rank() == root;
  for (const Group& g : groups) {
    torch::Tensor flat = torch::empty({g.numel}, torch::TensorOptions().dtype(g.type).device(g.device));
    std::int64_t offset = 0;
    if (is_root) {
      for (std::size_t i : g.members) {
        const torch::Tensor& t = tensors[i];
        flat.narrow(0, offset, t.numel()).view(t.sizes()).copy_(t);
        offset += t.numel();
      }
    }
    comm.broadcast(flat, root);
    if (!is_root) {
      for (std::size_t i : g.members) {
        const torch::Tensor& t = tensors[i];
        t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
      }
    }
  }
}

}  // namespace hemeplm::dist
