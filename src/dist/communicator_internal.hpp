// Helpers shared by the communicator backends (not installed).
#pragma once

#include <torch/types.h>

namespace hemeplm::dist {

/// Throws hemeplm::Error naming `what` and MPI_Error_string's text when rc is not MPI_SUCCESS.
void check_mpi(int rc, const char* what);
/// Throws UsageError when `tensor` is undefined.
void check_tensor(const torch::Tensor& tensor, const char* backend, const char* operation);
/// Throws UsageError when `root` is not a rank of a `size`-rank communicator.
void check_root(int root, int size, const char* backend);

}  // namespace hemeplm::dist
