// train-test main: checkpoints go through the MPI-aware HDF5 code even on one rank, and the model
// inputs are built with the decomposition layer's Kokkos cell lists, so both runtimes live for the
// whole test program.
#include <gtest/gtest.h>
#include <mpi.h>

#include "hemeplm/decomposition/kokkos_runtime.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int failed = 0;
  {
    hemeplm::decomposition::KokkosRuntime kokkos;
    failed = RUN_ALL_TESTS();
  }
  MPI_Finalize();
  return failed;
}
