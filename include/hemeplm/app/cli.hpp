// Entry point of the hemeplm program: MPI set-up, subcommand dispatch, error reporting.
#pragma once

namespace hemeplm::app {

/// Runs the program with the process arguments and returns the exit status.
int run(int argc, char** argv);

}  // namespace hemeplm::app
