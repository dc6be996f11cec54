// Accelerator discovery and binding: one GPU per node-local MPI rank on clusters. Built without CUDA,
// every query answers "no device" with the reason; nothing pretends to run on a GPU.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace hemeplm::dist {

struct DeviceReport {
  bool cuda_built = false;           ///< compiled with HEMEPLM_ENABLE_CUDA
  bool nccl_built = false;           ///< compiled with HEMEPLM_ENABLE_NCCL
  std::string cuda_runtime_version;  ///< "13.0" when built with CUDA
  std::string cuda_driver_version;   ///< empty when no driver is loaded
  std::string nccl_version;          ///< "2.28.9" when built with NCCL
  std::vector<std::string> devices;  ///< "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" per visible device
  std::string problem;               ///< why there is no usable device, empty when there is one
};

/// What this process can see. Never throws.
DeviceReport query_devices();

/// The rank's place on its node (MPI_COMM_TYPE_SHARED split of `comm`).
struct NodePlacement {
  int local_rank = 0;
  int local_size = 1;
};
NodePlacement node_placement(MPI_Comm comm);

/// Selects device local_rank % device_count for the calling rank and returns its index, or -1 when
/// the build has no CUDA or the node has no device.
int bind_device(MPI_Comm comm);

/// Runs a small kernel on `device` and checks its result on the host. Returns an empty string on
/// success, otherwise what went wrong. Without CUDA: "built without CUDA".
std::string device_self_test(int device);

}  // namespace hemeplm::dist
