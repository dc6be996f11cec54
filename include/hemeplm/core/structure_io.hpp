// Building a System from files: a receptor (PDB or mmCIF, read with gemmi) and any number of ligand
// files (SDF V2000/V3000 or MOL2, read with RDKit). Errors are InputError with file and line/record.
#pragma once

#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm {

struct SystemSources {
  std::string structure;             ///< .pdb, .ent, .cif, .mmcif (gzip allowed: .gz)
  std::vector<std::string> ligands;  ///< .sdf, .sd, .mol, .mol2; each may hold several molecules
};

/// Reads, validates and assembles the System: atoms in input order, residue/chain/molecule tables,
/// bonds (residue templates for polymers, bond tables of ligand files, CONECT records and covalent
/// distances for anything else), molecule kinds, and the 42 features of every atom.
System load_system(const SystemSources& sources);

/// A System of ligand molecules alone, without a receptor, from a ligand file (.sdf, .sd, .mol, .mol2):
/// read exactly as load_system reads ligand files (hydrogens as written, none added; bond orders and
/// formal charges from the file), one chain "L1", one residue and one ligand molecule per record, and
/// the 42 features of every atom. `first_molecule_only` keeps the first record alone (the topology of a
/// conformer set, where every record is the same molecule).
System load_ligand_system(const std::string& path, bool first_molecule_only = false);

/// One record of a ligand file: its elements and coordinates as read (hydrogens as written).
struct LigandConformer {
  std::string title;   ///< first line of the SDF record / MOL2 molecule name
  int first_line = 0;  ///< 1-based line where the record starts
  std::vector<int> atomic_numbers;
  std::vector<Vec3> positions;  ///< Å, in file order
};

/// The records of a conformer set: a ligand file (.sdf, .sd, .mol, .mol2) whose records are all the same
/// molecule, in file order, validated as load_system validates ligand files. A record whose atom count
/// or element sequence differs from record 1's is an InputError naming the file, the record (1-based) and
/// the first difference, raised as soon as that record is read.
std::vector<LigandConformer> read_conformer_set(const std::string& path);

/// Recomputes the 42 features of every atom (features.hpp) from the System's bonds and charges, e.g.
/// after rebuilding a System from a stored topology.
void featurize(System& system);

}  // namespace hemeplm
