// A device round trip: a kernel writes a known pattern, the host reads it back and checks it. Used by
// `hemeplm info --devices` so that "device works" is a measured statement, not an assumption.
#include <cuda_runtime.h>

#include <string>
#include <vector>

namespace hemeplm::dist {
namespace {

__global__ void fill_pattern(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 3 * i + 1;
}

std::string describe(const char* step, cudaError_t e) {
  return std::string(step) + ": " + cudaGetErrorString(e);
}

}  // namespace

std::string device_self_test_cuda(int device) {
  constexpr int n = 1 << 16;
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) return describe("cudaSetDevice", e);
  int* d = nullptr;
  if (cudaError_t e = cudaMalloc(&d, n * sizeof(int)); e != cudaSuccess) return describe("cudaMalloc", e);
  fill_pattern<<<(n + 255) / 256, 256>>>(d, n);
  std::vector<int> h(n);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaMemcpy(h.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(d);
  if (e != cudaSuccess) return describe("kernel", e);
  for (int i = 0; i < n; ++i)
    if (h[i] != 3 * i + 1) return "kernel result wrong at element " + std::to_string(i);
  return {};
}

}  // namespace hemeplm::dist
