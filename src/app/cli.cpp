#include "hemeplm/app/cli.hpp"

#include <cstring>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/library_versions.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/dist/device.hpp"
#include "mpi_session.hpp"
#include "options.hpp"

namespace hemeplm::app {
namespace {

std::vector<std::unique_ptr<Command>> all_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_info_command());
  commands.push_back(make_fragment_command());
  commands.push_back(make_prepare_command());
  commands.push_back(make_train_command());
  commands.push_back(make_sample_command());
  commands.push_back(make_evaluate_command());
  commands.push_back(make_annotate_command());
  return commands;
}

void print_program_help(std::ostream& out, const std::vector<std::unique_ptr<Command>>& commands) {
  out << "hemeplm " << HEMEPLM_VERSION
      << " - learns protein-ligand dynamics from MD trajectories and generates long trajectories of\n"
         "large systems with an equivariant diffusion model, decomposed over MPI ranks and GPUs.\n\n"
         "Usage: hemeplm <command> [options]        (under MPI: mpirun -n N hemeplm <command> ...)\n"
         "       hemeplm --help | --version\n\nCommands:\n";
  for (const auto& c : commands)
    out << "  " << c->name() << std::string(12 - std::strlen(c->name()), ' ') << c->summary() << '\n';
  out << "\nEvery command takes --help for its options and --config FILE for an INI file of the same\n"
         "options (command-line values override the file). Errors print one line on stderr and exit\n"
         "with status 2 for bad input or options, 1 for anything else.\n";
}

void print_version(std::ostream& out) {
  char mpi_library[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(mpi_library, &length);
  std::string mpi(mpi_library, static_cast<std::size_t>(length));
  mpi = mpi.substr(0, mpi.find_first_of(",\n"));
  const dist::DeviceReport devices = dist::query_devices();
  out << "hemeplm " << HEMEPLM_VERSION << '\n'
      << "  compiler: " << __VERSION__ << " (C++" << __cplusplus / 100 % 100 << ")\n"
      << "  MPI:      " << mpi << '\n'
      << "  Kokkos:   " << decomposition::KokkosRuntime::description() << '\n'
      << "  gemmi:    " << gemmi_version() << '\n'
      << "  RDKit:    " << rdkit_version() << '\n'
      << "  CUDA:     "
      << (devices.cuda_built ? "runtime " + devices.cuda_runtime_version : std::string("not built")) << '\n'
      << "  NCCL:     " << (devices.nccl_built ? devices.nccl_version : std::string("not built")) << '\n';
}

}  // namespace

int run(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  std::ostream& out = std::cout;
  const auto commands = all_commands();
  const std::vector<std::string> args(argv + 1, argv + argc);

  auto fail = [&](const std::string& message, int status) -> int {
    // Every rank that fails says why; under mpirun each line carries its rank.
    std::cerr << "hemeplm: error: " << (mpi.size() > 1 ? "[rank " + std::to_string(mpi.rank()) + "] " : "")
              << message << std::endl;
    mpi.abort_all(status);
  };

  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (mpi.rank() == 0) print_program_help(out, commands);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    if (mpi.rank() == 0) print_version(out);
    return 0;
  }
  const Command* command = nullptr;
  for (const auto& c : commands)
    if (args[0] == c->name()) command = c.get();
  if (!command) return fail("unknown command '" + args[0] + "'; see 'hemeplm --help'", 2);

  try {
    bool help = false;
    const po::variables_map options =
        parse_command_line(*command, std::vector<std::string>(args.begin() + 1, args.end()), help);
    if (help) {
      if (mpi.rank() == 0) out << command_help(*command);
      return 0;
    }
    // Kokkos is started from settings, never from argv (Kokkos 3 would consume options like --threads).
    decomposition::KokkosRuntime kokkos;
    RunContext context{MPI_COMM_WORLD, mpi.rank(), mpi.size(), &out};
    const int status = command->run(options, context);
    out.flush();
    return status;
  } catch (const Error& e) {
    return fail(e.what(), e.exit_status());
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what(), 1);
  }
}

}  // namespace hemeplm::app
