// Process-level settings LibTorch on the CPU needs to be fast here: an explicit thread count and a
// host allocator that reuses the memory of freed large tensors (see config.hpp).
#include <ATen/Parallel.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "hemeplm/model/config.hpp"

namespace hemeplm::model {

int set_torch_threads(int requested, int ranks_per_node) {
  int threads = requested;
  if (threads <= 0) {
    if (const char* omp = std::getenv("OMP_NUM_THREADS")) threads = std::atoi(omp);
  }
  if (threads <= 0) {
    const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, hardware / std::max(1, ranks_per_node));
  }
  at::set_num_threads(threads);
  return threads;
}

bool keep_freed_tensor_memory() {
  // glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh mmap and
  // unmaps it on free, so each of the hundreds of [E, M, H] temporaries of a ViSNet forward and
  // backward faults in new zeroed pages: half of the wall time went to the kernel. Served from the
  // heap, freed blocks are reused; the heap top is still returned to the system beyond 1 GB free.
  constexpr int kTrimThreshold = 1 << 30;
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

}  // namespace hemeplm::model
