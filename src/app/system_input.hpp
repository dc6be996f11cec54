// The structure options every command that reads a System shares, and loading with validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm::app {

/// Adds `structure` (positional) and `--ligand FILE` (repeatable).
void add_structure_options(po::options_description& options, po::positional_options_description& positionals);

/// A System from a structure file (PDB, mmCIF, with ligand files), or from frame `frame` of a hemeplm H5MD
/// file (dataset or trajectory: its topology with that frame's positions and box; frame < 0 counts from
/// the end). UsageError/InputError naming the file otherwise.
System load_system_frame(const std::string& path, const std::vector<std::string>& ligands,
                         std::int64_t frame);

/// Loads the System named by the options (with `--structure-frame K` where the command defines it) and
/// rejects geometry no real structure has: atoms closer than 0.3 Å to each other (duplicated atoms,
/// overlapping copies). Throws InputError.
System load_validated_system(const po::variables_map& options);

}  // namespace hemeplm::app
