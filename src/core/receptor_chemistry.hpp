// Turning validated receptor records into a System with residues, chains, bonds (with orders),
// formal charges and molecules. Internal to the core layer.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "receptor_file.hpp"

namespace hemeplm {

/// Atoms, residues (contiguous runs of one chain/number/insertion/name), chains (a new one at each
/// chain-id change or TER), residue kinds, box, sources[0] = path. Bonds, charges and molecules are
/// left empty.
System build_receptor_system(ReceptorFile& file, const std::string& path, bool ligand_files_given);

/// Residue templates with bond orders, hydrogens to their nearest heavy atom, covalent radii for
/// unknown groups, peptide and nucleotide links, disulfides and CONECT bonds (metal coordination is
/// never a bond). Leaves system.bonds sorted and unique.
void assign_receptor_bonds(System& system, const std::vector<std::array<int, 2>>& conect_pairs);

/// Formal charges: amino acids from their hydrogens (or pH-7 defaults without hydrogens), ions from
/// the file or their usual charge, everything else from the file's charge columns (`file_charges`).
void assign_receptor_formal_charges(System& system, const std::vector<int>& file_charges);

/// Molecules as connected components of the bond graph over residues.
void assign_receptor_molecules(System& system);

}  // namespace hemeplm
