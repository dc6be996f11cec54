// RAII owner of MPI for the program: initialises it (one rank works without mpirun) and finalises it.
#pragma once

#include <mpi.h>

namespace hemeplm::app {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Ends every rank of the job with `status` after this rank printed the reason. With one rank this
  /// is an ordinary exit path (no MPI_Abort banner); with several it is MPI_Abort, so no rank hangs.
  [[noreturn]] void abort_all(int status);

 private:
  int rank_ = 0;
  int size_ = 1;
  bool initialised_here_ = false;
};

}  // namespace hemeplm::app
