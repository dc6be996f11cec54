#include "hemeplm/decomposition/kokkos_runtime.hpp"

#include <Kokkos_Core.hpp>
#include <string>

namespace hemeplm::decomposition {

KokkosRuntime::KokkosRuntime(int num_threads) {
  if (Kokkos::is_initialized()) return;  // an outer owner (e.g. a test main) already started it
#if KOKKOS_VERSION >= 40000
  Kokkos::InitializationSettings settings;
  if (num_threads > 0) settings.set_num_threads(num_threads);
  Kokkos::initialize(settings);
#else
  Kokkos::InitArguments args;
  if (num_threads > 0) args.num_threads = num_threads;
  Kokkos::initialize(args);
#endif
  owns_ = true;
}

KokkosRuntime::~KokkosRuntime() {
  if (owns_ && Kokkos::is_initialized()) Kokkos::finalize();
}

const char* KokkosRuntime::description() {
  static const std::string text = [] {
    std::string s = "Kokkos " + std::to_string(KOKKOS_VERSION / 10000) + "." +
                    std::to_string(KOKKOS_VERSION / 100 % 100) + "." + std::to_string(KOKKOS_VERSION % 100) +
                    " (default execution space " + Kokkos::DefaultExecutionSpace::name() + ")";
    return s;
  }();
  return text.c_str();
}

}  // namespace hemeplm::decomposition
