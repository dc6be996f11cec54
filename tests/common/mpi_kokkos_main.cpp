// main() of the test binaries whose code needs MPI and Kokkos alive for the whole program (train-test,
// train-mpi-test, sample-test): checkpoints and H5MD files go through the MPI-aware HDF5 code even on one
// rank, and model inputs are built with the decomposition layer's Kokkos cell lists. The same binaries
// run serially and under mpiexec.
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
