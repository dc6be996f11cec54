#include "mpi_session.hpp"

#include <cstdlib>

namespace hemeplm::app {

MpiSession::MpiSession(int& argc, char**& argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    initialised_here_ = true;
  }
  // Errors in MPI calls come back as codes we check, not as aborts without a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (initialised_here_ && !finalised) MPI_Finalize();
}

void MpiSession::abort_all(int status) {
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, status);
  MPI_Finalize();
  std::exit(status);
}

}  // namespace hemeplm::app
