// parallel_io-test's main: the H5MD writer and the checkpoint code call MPI even on one rank
// (MPI_COMM_SELF), so MPI is initialised around the tests. Child processes that this binary starts
// again (the H5MD crash test) go through here too.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>

namespace hemeplm::parallel_io {
[[noreturn]] void run_crash_child_writer(const char* dir);  // h5md_crash_test.cpp
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (const char* dir = std::getenv("HEMEPLM_H5MD_CRASH_DIR"))
    hemeplm::parallel_io::run_crash_child_writer(dir);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
