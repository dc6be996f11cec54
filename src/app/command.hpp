// A subcommand of hemeplm: its options, its positional arguments and what it does.
#pragma once

#include <mpi.h>

#include <boost/program_options.hpp>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace hemeplm::app {

namespace po = boost::program_options;

/// What a command runs with: the communicator and where its output goes (rank 0 prints).
struct RunContext {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0;
  int size = 1;
  std::ostream* out = nullptr;
  bool is_root() const { return rank == 0; }
};

/// Runs `work` (returning an exit status) on rank 0 while the other ranks wait at a barrier. Serial
/// commands use it so that only rank 0 reads and prints; if rank 0 throws, the error handler aborts
/// every rank, so the waiting ranks never hang.
template <class Work>
int run_on_root(const RunContext& context, Work&& work) {
  const int status = context.is_root() ? work() : 0;
  MPI_Barrier(context.comm);
  return status;
}

class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  virtual const char* summary() const = 0;
  /// "STRUCTURE [--ligand FILE]..." shown after "hemeplm <name>" in the usage line.
  virtual const char* usage() const = 0;
  /// Options beyond the common --help and --config; long names double as config-file keys.
  virtual void add_options(po::options_description& options) const = 0;
  /// Positional arguments, mapped onto options of the same name.
  virtual void add_positionals(po::positional_options_description& positionals) const = 0;
  /// Longer text printed after the options by --help (examples, file formats).
  virtual const char* epilog() const { return ""; }
  /// Runs the command; returns the exit status. Throws hemeplm::Error for user-caused problems.
  virtual int run(const po::variables_map& options, const RunContext& context) const = 0;
};

std::unique_ptr<Command> make_info_command();
std::unique_ptr<Command> make_fragment_command();
std::unique_ptr<Command> make_prepare_command();
std::unique_ptr<Command> make_train_command();
std::unique_ptr<Command> make_sample_command();
std::unique_ptr<Command> make_evaluate_command();
std::unique_ptr<Command> make_annotate_command();

}  // namespace hemeplm::app
