// RAII owner of the Kokkos runtime. Initialised from settings, never from argv: Kokkos 3 would
// otherwise consume application options such as --threads.
#pragma once

namespace hemeplm::decomposition {

class KokkosRuntime {
 public:
  /// num_threads <= 0 leaves the choice to Kokkos (and OMP_NUM_THREADS).
  explicit KokkosRuntime(int num_threads = 0);
  ~KokkosRuntime();
  KokkosRuntime(const KokkosRuntime&) = delete;
  KokkosRuntime& operator=(const KokkosRuntime&) = delete;

  /// "Kokkos 3.4.1 (Serial)" style description of the version and enabled execution spaces.
  static const char* description();

 private:
  bool owns_ = false;
};

}  // namespace hemeplm::decomposition
