// DDP-style gradient averaging over a Communicator, and the start-of-training parameter broadcast.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <vector>

#include "hemeplm/dist/communicator.hpp"

namespace hemeplm::dist {

/// DDP-style gradient averaging: the parameters (those with requires_grad, in the given order) are
/// assigned to buckets of about `bucket_bytes` in REVERSE order (the order backward produces gradients);
/// each bucket is one flat contiguous buffer, allocated once and reused by every all_reduce_mean().
///
/// A bucket holds one dtype on one device: a new bucket starts where the dtype or device changes along
/// the reversed parameter list (so buckets stay in backward order), where adding the next parameter would
/// exceed `bucket_bytes`. A parameter larger than `bucket_bytes` is a bucket of its own.
///
/// The parameter tensors are held by handle: replacing a module's parameters (e.g. module->to(device))
/// after construction needs a new GradientAllReduce. Every rank must construct it from the same
/// parameter list (same shapes, dtypes, requires_grad flags, order).
class GradientAllReduce {
 public:
  explicit GradientAllReduce(std::vector<torch::Tensor> parameters, std::size_t bucket_bytes = 25u << 20);

  /// For each bucket: copy grads in (an undefined grad counts as zeros, and afterwards the parameter has a
  /// defined grad), all_reduce_sum, divide by size, copy back. Returns the seconds spent inside the
  /// communicator calls (for the "all-reduce share" the trainer reports; with NCCL the calls are
  /// asynchronous, so this is enqueue time). Buckets are all-reduced in bucket order, one communicator
  /// call per bucket. Collective.
  double all_reduce_mean(Communicator& comm);

  std::size_t bucket_count() const { return buckets_.size(); }
  /// Bytes of bucket `bucket`'s flat buffer (numel * element size).
  std::size_t bucket_bytes(std::size_t bucket) const;
  /// Parameter indices (into the constructor's list) per bucket, in bucket order.
  const std::vector<std::vector<std::size_t>>& bucket_parameters() const { return bucket_parameters_; }
  /// The bucket size the layout was made with.
  std::size_t bucket_bytes_limit() const { return bucket_bytes_limit_; }

 private:
  struct Bucket {
    torch::Tensor buffer;               // flat, contiguous, one dtype and device
    std::vector<std::int64_t> offsets;  // element offset per parameter of the bucket
  };
  std::vector<torch::Tensor> parameters_;
  std::size_t bucket_bytes_limit_;
  std::vector<Bucket> buckets_;
  std::vector<std::vector<std::size_t>> bucket_parameters_;
};

/// Copies rank `root`'s values of every tensor (parameters and buffers) to all ranks, in place: the
/// tensors are flattened per dtype and device (groups in order of first appearance), one broadcast each.
/// Before that, one broadcast and one all-reduce check that every rank passed the same layout (count,
/// dtypes, shapes); on a mismatch every rank throws UsageError. Collective.
void broadcast_tensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root = 0);

}  // namespace hemeplm::dist
