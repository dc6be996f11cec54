// Collective communication for data-parallel training: an in-place sum and broadcast of torch tensors
// over the ranks of an MPI communicator. Two backends behind one interface: MPI (always built; CPU
// tensors, CUDA tensors staged through host memory) and NCCL (built with HEMEPLM_ENABLE_NCCL; tensors
// on this rank's GPU). Every member is collective unless noted: all ranks call it in the same order
// with tensors of the same shape and dtype.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <memory>

namespace hemeplm::dist {

class Communicator {
 public:
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  virtual ~Communicator() = default;

  /// Rank and size of the (duplicated) communicator. Local, not collective.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "mpi" or "nccl". Local.
  virtual const char* backend_name() const = 0;

  /// In-place sum over ranks of a tensor. MPI: CPU tensors of float32/float64/int32/int64; a CUDA
  /// tensor is staged through host memory. NCCL: tensors on this rank's device (float16, bfloat16,
  /// float32, float64, int32, int64, uint8, int8). A non-contiguous tensor is reduced through a
  /// contiguous copy and written back. Throws UsageError for an undefined tensor or an unsupported
  /// dtype/device (every rank throws alike, before communicating).
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  /// In-place broadcast of `tensor` (any dtype; sent as bytes) from rank `root`.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  /// Returns when every rank has entered it. NCCL: also waits for this rank's queued collectives.
  virtual void barrier() = 0;
};

/// MPI backend on a duplicate of `comm` (always available). The duplicate gets MPI_ERRORS_RETURN, so
/// MPI failures become hemeplm::Error with MPI_Error_string's text; it is freed in the destructor
/// (skipped when MPI is already finalized).
std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm);

/// NCCL backend: unique id from rank 0 by MPI_Bcast over (a duplicate of) `comm`, cudaSetDevice(device),
/// ncclCommInitRank, its own non-blocking stream. Each collective is ordered after the work already
/// queued on the legacy default stream (event record + cudaStreamWaitEvent) and the default stream waits
/// for it afterwards, so torch code on the default stream sees the result; calls return before the
/// collective has finished on the device. Throws UsageError("... built without NCCL ...") in a build
/// without NCCL; NCCL/CUDA errors become hemeplm::Error with ncclGetErrorString / cudaGetErrorString.
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, int device);

/// Whether this build has the NCCL backend (HEMEPLM_ENABLE_NCCL). Local.
bool nccl_built();

}  // namespace hemeplm::dist
