// Rank and size of MPI_COMM_WORLD for the dist tests (the binary runs serially and under mpiexec).
#pragma once

#include <mpi.h>

namespace hemeplm::dist {

struct World {
  int rank = 0;
  int size = 1;
  World() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
};

}  // namespace hemeplm::dist
