// Building a System from files: a receptor (PDB or mmCIF, read with gemmi) and any number of ligand
// files (SDF V2000/V3000 or MOL2, read with RDKit). Errors are InputError with file and line/record.
#pragma once

#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"

namespace hemeplm {

struct SystemSources {
  std::string structure;             ///< .pdb, .ent, .cif, .mmcif (gzip allowed: .gz)
  std::vector<std::string> ligands;  ///< .sdf, .sd, .mol, .mol2; each may hold several molecules
};

/// Reads, validates and assembles the System: atoms in input order, residue/chain/molecule tables,
/// bonds (residue templates for polymers, bond tables of ligand files, CONECT records and covalent
/// distances for anything else), molecule kinds, and the 42 features of every atom.
System load_system(const SystemSources& sources);

/// Recomputes the 42 features of every atom (features.hpp) from the System's bonds and charges, e.g.
/// after rebuilding a System from a stored topology.
void featurize(System& system);

}  // namespace hemeplm
