// decomposition-test main: the Kokkos runtime lives for the whole test program.
#include <gtest/gtest.h>

#include "hemeplm/decomposition/kokkos_runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  hemeplm::decomposition::KokkosRuntime kokkos;
  return RUN_ALL_TESTS();
}
