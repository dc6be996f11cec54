#include "hemeplm/dist/device.hpp"

#include <cstdio>
#include <string>

#ifdef HEMEPLM_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef HEMEPLM_HAVE_NCCL
#include <nccl.h>
#endif

namespace hemeplm::dist {

#ifdef HEMEPLM_HAVE_CUDA
std::string device_self_test_cuda(int device);  // device_self_test.cu

namespace {
std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}
}  // namespace
#endif

DeviceReport query_devices() {
  DeviceReport r;
#ifdef HEMEPLM_HAVE_NCCL
  r.nccl_built = true;
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess) {
    // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
    r.nccl_version = std::to_string(nccl / 10000) + "." + std::to_string(nccl / 100 % 100) + "." +
                     std::to_string(nccl % 100);
  }
#endif
#ifdef HEMEPLM_HAVE_CUDA
  r.cuda_built = true;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  r.cuda_runtime_version = cuda_version_string(runtime);
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0)
    r.cuda_driver_version = cuda_version_string(driver);
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    r.problem = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    return r;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB",
                  static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    r.devices.push_back(std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) +
                        ", " + memory + ")");
  }
  if (r.devices.empty()) r.problem = "no CUDA device visible";
#else
  r.problem = "built without CUDA (configure with --preset cuda)";
#endif
  return r;
}

NodePlacement node_placement(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  NodePlacement p;
  MPI_Comm_rank(node, &p.local_rank);
  MPI_Comm_size(node, &p.local_size);
  MPI_Comm_free(&node);
  return p;
}

int bind_device(MPI_Comm comm) {
  const NodePlacement placement = node_placement(comm);
#ifdef HEMEPLM_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    return -1;
  }
  const int device = placement.local_rank % count;
  return cudaSetDevice(device) == cudaSuccess ? device : -1;
#else
  (void)placement;
  return -1;
#endif
}

std::string device_self_test(int device) {
#ifdef HEMEPLM_HAVE_CUDA
  return device_self_test_cuda(device);
#else
  (void)device;
  return "built without CUDA";
#endif
}

}  // namespace hemeplm::dist
