// The structure options every command that reads a System shares, and loading with validation.
#pragma once

#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm::app {

/// Adds `structure` (positional) and `--ligand FILE` (repeatable).
void add_structure_options(po::options_description& options, po::positional_options_description& positionals);

/// Loads the System named by the options and rejects geometry no real structure has: atoms closer than
/// 0.3 Å to each other (duplicated atoms, overlapping copies). Throws InputError.
System load_validated_system(const po::variables_map& options);

}  // namespace hemeplm::app
