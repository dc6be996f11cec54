// The NCCL backend of Communicator. Plain C++ against the CUDA runtime and NCCL C APIs: no c10/cuda
// header, so it compiles against a CPU-only LibTorch too. Torch queues its work on the legacy default
// stream; every collective runs on this communicator's own non-blocking stream, fenced on both sides
// by events so that it starts after the work already queued there and the default stream waits for it.
#ifdef HEMEPLM_HAVE_NCCL

#include <ATen/ATen.h>
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <memory>
#include <string>

#include "communicator_internal.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/dist/communicator.hpp"

namespace hemeplm::dist {
namespace {

void check_cuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so later calls are not poisoned
  throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

void check_nccl(ncclResult_t r, const char* what) {
  if (r == ncclSuccess) return;
  throw Error(std::string("NCCL error in ") + what + ": " + ncclGetErrorString(r));
}

ncclDataType_t nccl_sum_type(at::ScalarType type) {
  switch (type) {
    case at::kHalf:
      return ncclFloat16;
#if defined(NCCL_VERSION_CODE) && NCCL_VERSION_CODE >= 21000
    case at::kBFloat16:
      return ncclBfloat16;
#endif
    case at::kFloat:
      return ncclFloat32;
    case at::kDouble:
      return ncclFloat64;
    case at::kInt:
      return ncclInt32;
    case at::kLong:
      return ncclInt64;
    case at::kByte:
      return ncclUint8;
    case at::kChar:
      return ncclInt8;
    default:
      throw UsageError(std::string("nccl all_reduce_sum: dtype ") + at::toString(type) + " is not supported");
  }
}

// Makes `device` current for the scope and restores the previous device afterwards.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check_cuda(cudaSetDevice(device), "cudaSetDevice");
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  ~DeviceScope() { cudaSetDevice(previous_); }

 private:
  int previous_ = 0;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(MPI_Comm comm, int device) : device_(device) {
    check_mpi(MPI_Comm_dup(comm, &mpi_comm_), "MPI_Comm_dup");
    try {
      check_mpi(MPI_Comm_set_errhandler(mpi_comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
      check_mpi(MPI_Comm_rank(mpi_comm_, &rank_), "MPI_Comm_rank");
      check_mpi(MPI_Comm_size(mpi_comm_, &size_), "MPI_Comm_size");
      ncclUniqueId id{};
      if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
      check_mpi(MPI_Bcast(&id, static_cast<int>(sizeof id), MPI_BYTE, 0, mpi_comm_), "MPI_Bcast (NCCL id)");
      check_cuda(cudaSetDevice(device_), "cudaSetDevice");
      check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
      check_cuda(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      check_cuda(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      check_nccl(ncclCommInitRank(&nccl_comm_, size_, id, rank_), "ncclCommInitRank");
    } catch (...) {
      release();
      throw;
    }
  }
  ~NcclCommunicator() override { release(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend_name() const override { return "nccl"; }

  void all_reduce_sum(torch::Tensor& tensor) override {
    check_tensor(tensor, "nccl", "all_reduce_sum");
    check_device(tensor, "all_reduce_sum");
    const ncclDataType_t type = nccl_sum_type(tensor.scalar_type());
    if (tensor.numel() == 0) return;
    with_contiguous(tensor, [&](torch::Tensor& t) {
      enqueue([&] {
        check_nccl(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<std::size_t>(t.numel()), type,
                                 ncclSum, nccl_comm_, stream_),
                   "ncclAllReduce");
      });
    });
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "nccl", "broadcast");
    check_device(tensor, "broadcast");
    check_root(root, size_, "nccl");
    if (tensor.numel() == 0) return;
    with_contiguous(tensor, [&](torch::Tensor& t) {
      const std::size_t bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
      enqueue([&] {
        check_nccl(ncclBroadcast(t.data_ptr(), t.data_ptr(), bytes, ncclUint8, root, nccl_comm_, stream_),
                   "ncclBroadcast");
      });
    });
  }

  void barrier() override {
    {
      DeviceScope scope(device_);
      check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    }
    check_mpi(MPI_Barrier(mpi_comm_), "MPI_Barrier");
  }

 private:
  void check_device(const torch::Tensor& tensor, const char* operation) const {
    if (!tensor.is_cuda() || tensor.get_device() != device_)
      throw UsageError(std::string("nccl ") + operation + ": the tensor is on " + tensor.device().str() +
                       ", not on this rank's device cuda:" + std::to_string(device_));
  }

  // Default stream -> own stream -> collective -> default stream waits.
  template <class F>
  void enqueue(F&& collective) {
    DeviceScope scope(device_);
    check_cuda(cudaEventRecord(ready_, cudaStreamLegacy), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, ready_, 0), "cudaStreamWaitEvent");
    collective();
    check_cuda(cudaEventRecord(done_, stream_), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(cudaStreamLegacy, done_, 0), "cudaStreamWaitEvent");
  }

  // A non-contiguous tensor goes through a contiguous copy (made and written back by torch on the
  // default stream, so the fences above order it).
  template <class F>
  static void with_contiguous(torch::Tensor& tensor, F&& f) {
    if (tensor.is_contiguous()) {
      f(tensor);
      return;
    }
    torch::NoGradGuard no_grad;
    torch::Tensor staged = tensor.contiguous();
    f(staged);
    tensor.copy_(staged);
  }

  void release() noexcept {
    if (nccl_comm_ != nullptr) ncclCommDestroy(nccl_comm_);
    if (done_ != nullptr) cudaEventDestroy(done_);
    if (ready_ != nullptr) cudaEventDestroy(ready_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    nccl_comm_ = nullptr;
    done_ = ready_ = nullptr;
    stream_ = nullptr;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && mpi_comm_ != MPI_COMM_NULL) MPI_Comm_free(&mpi_comm_);
    mpi_comm_ = MPI_COMM_NULL;
  }

  int device_;
  MPI_Comm mpi_comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;
  cudaEvent_t done_ = nullptr;
  ncclComm_t nccl_comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, int device) {
  // Every rank checks its device first and all agree before any rank enters NCCL, so a rank without a
  // usable device makes every rank throw instead of leaving the others waiting in the id broadcast.
  std::string problem;
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    cudaGetLastError();
    problem = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
  } else if (device < 0 || device >= count) {
    problem = "device " + std::to_string(device) + " is not one of the " + std::to_string(count) +
              " visible CUDA devices";
  }
  int local_ok = problem.empty() ? 1 : 0, all_ok = 0;
  check_mpi(MPI_Allreduce(&local_ok, &all_ok, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce (NCCL setup)");
  if (!all_ok)
    throw UsageError("the NCCL communicator cannot start: " +
                     (problem.empty() ? std::string("another rank has no usable CUDA device") : problem));
  return std::make_unique<NcclCommunicator>(comm, device);
}

bool nccl_built() {
  return true;
}

}  // namespace hemeplm::dist

#endif  // HEMEPLM_HAVE_NCCL
