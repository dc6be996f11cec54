// Option parsing shared by all commands: command line first, then an optional INI config file whose
// keys are the long option names (command-line values win), strict about unknown keys.
#pragma once

#include <string>
#include <vector>

#include "command.hpp"

namespace hemeplm::app {

/// Parses argv (argv[0] is the command name) for `command`. Sets `help` instead of validating
/// required options when --help is given. Throws UsageError with a one-line message.
po::variables_map parse_command_line(const Command& command, const std::vector<std::string>& args,
                                     bool& help);

/// The full --help text of a command.
std::string command_help(const Command& command);

/// Throws UsageError "--NAME must be between LO and HI (got V)" when V is outside [lo, hi].
void require_range(const char* name, double value, double lo, double hi);
void require_range(const char* name, int value, int lo, int hi);

}  // namespace hemeplm::app
