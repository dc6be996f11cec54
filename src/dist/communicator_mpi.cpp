// The MPI backend of Communicator, and the stand-in for the NCCL factory in builds without NCCL.
#include <ATen/ATen.h>
#include <mpi.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>

#include "communicator_internal.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/dist/communicator.hpp"

namespace hemeplm::dist {

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  throw Error(
      std::string("MPI error in ") + what + ": " +
      (length > 0 ? std::string(text, static_cast<std::size_t>(length)) : "code " + std::to_string(rc)));
}

void check_tensor(const torch::Tensor& tensor, const char* backend, const char* operation) {
  if (!tensor.defined())
    throw UsageError(std::string(backend) + " " + operation + ": the tensor is undefined");
}

void check_root(int root, int size, const char* backend) {
  if (root < 0 || root >= size)
    throw UsageError(std::string(backend) + " broadcast: root " + std::to_string(root) +
                     " is not a rank of a " + std::to_string(size) + "-rank communicator");
}

namespace {

// Largest element count per MPI call: counts are int.
constexpr std::int64_t kMaxChunk = std::int64_t{1} << 30;

MPI_Datatype mpi_sum_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return MPI_FLOAT;
    case at::kDouble:
      return MPI_DOUBLE;
    case at::kInt:
      return MPI_INT32_T;
    case at::kLong:
      return MPI_INT64_T;
    default:
      throw UsageError(std::string("mpi all_reduce_sum: dtype ") + at::toString(type) +
                       " is not supported (float32, float64, int32, int64)");
  }
}

// Owns an MPI communicator duplicate; MPI_Comm_free in the destructor unless MPI is already finalized.
class MpiCommHandle {
 public:
  explicit MpiCommHandle(MPI_Comm comm) {
    check_mpi(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  }
  MpiCommHandle(const MpiCommHandle&) = delete;
  MpiCommHandle& operator=(const MpiCommHandle&) = delete;
  ~MpiCommHandle() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    check_mpi(MPI_Comm_rank(comm_.get(), &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_.get(), &size_), "MPI_Comm_size");
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend_name() const override { return "mpi"; }

  void all_reduce_sum(torch::Tensor& tensor) override {
    check_tensor(tensor, "mpi", "all_reduce_sum");
    const MPI_Datatype type = mpi_sum_type(tensor.scalar_type());
    if (tensor.numel() == 0) return;
    with_host_contiguous(tensor, [&](torch::Tensor& host) {
      auto* data = static_cast<char*>(host.data_ptr());
      const std::int64_t element = static_cast<std::int64_t>(host.element_size());
      for (std::int64_t begin = 0, n = host.numel(); begin < n; begin += kMaxChunk) {
        const int count = static_cast<int>(std::min(kMaxChunk, n - begin));
        check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + begin * element, count, type, MPI_SUM, comm_.get()),
                  "MPI_Allreduce");
      }
    });
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "mpi", "broadcast");
    check_root(root, size_, "mpi");
    if (tensor.numel() == 0) return;
    with_host_contiguous(tensor, [&](torch::Tensor& host) {
      auto* data = static_cast<char*>(host.data_ptr());
      const std::int64_t bytes = host.numel() * static_cast<std::int64_t>(host.element_size());
      for (std::int64_t begin = 0; begin < bytes; begin += kMaxChunk) {
        const int count = static_cast<int>(std::min(kMaxChunk, bytes - begin));
        check_mpi(MPI_Bcast(data + begin, count, MPI_BYTE, root, comm_.get()), "MPI_Bcast");
      }
    });
  }

  void barrier() override { check_mpi(MPI_Barrier(comm_.get()), "MPI_Barrier"); }

 private:
  // Runs `f` on a contiguous CPU tensor holding `tensor`'s values: `tensor` itself when it already is
  // one, otherwise a staging copy whose result is written back.
  template <class F>
  static void with_host_contiguous(torch::Tensor& tensor, F&& f) {
    torch::NoGradGuard no_grad;
    if (tensor.device().is_cpu() && tensor.is_contiguous()) {
      f(tensor);
      return;
    }
    torch::Tensor host = tensor.to(torch::kCPU, /*non_blocking=*/false, /*copy=*/false).contiguous();
    if (host.data_ptr() == tensor.data_ptr()) host = host.clone();  // never alias a strided original
    f(host);
    tensor.copy_(host);
  }

  MpiCommHandle comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm) {
  return std::make_unique<MpiCommunicator>(comm);
}

#ifndef HEMEPLM_HAVE_NCCL
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm /*comm*/, int device) {
  throw UsageError("the NCCL communicator (device " + std::to_string(device) +
                   ") is not available: hemeplm was built without NCCL (configure with --preset cuda, "
                   "HEMEPLM_ENABLE_NCCL=ON); use the MPI backend");
}

bool nccl_built() {
  return false;
}
#endif

}  // namespace hemeplm::dist
