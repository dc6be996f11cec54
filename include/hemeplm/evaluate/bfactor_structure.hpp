// Structures whose B-factor column carries a per-atom value (a residue's predicted energy or force error)
// so that any molecular viewer can colour by it: PDB (fixed columns, what PyMOL, MDAnalysis and gemmi
// read) and mmCIF (an _atom_site loop with B_iso_or_equiv at full precision). Torch-free.
#pragma once

#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

/// What a written file says about its B-factors.
struct BFactorContent {
  std::string quantity;  ///< "per-residue predicted energy"
  std::string unit;      ///< "kJ/mol"
};

/// How the values were put into PDB's B-factor column (columns 61-66, %6.2f: -99.99 to 999.99). Values
/// that do not fit are all scaled by the same power of ten, B = value * scale (stated in a REMARK 99
/// line), never clamped, so that colours keep their order; NaN values are written as 0.00 (counted).
struct PdbBFactorScale {
  double scale = 1.0;
  int not_a_number = 0;
};

/// The power-of-ten scale (1, 0.1, 0.01, ...) that makes every finite value fit %6.2f in columns 61-66.
PdbBFactorScale pdb_bfactor_scale(const std::vector<double>& atom_values);

/// Every atom gets the value of its residue: residue_values[system.atom_residue[a]]. UsageError when
/// residue_values has not one value per residue.
std::vector<double> residue_values_per_atom(const System& system, const std::vector<double>& residue_values);

/// PDB chain identifiers (one character) of the system's chains: a chain name of one character is kept;
/// longer names ("L1" of a ligand file) and clashes get the first free character of A-Z, a-z, 0-9.
std::vector<char> pdb_chain_ids(const System& system);

/// Writes a PDB file of `system` at `positions` (Å) with B-factor = atom_values[a] * scale: ATOM for
/// amino acids, caps and nucleotides, HETATM for everything else (ligands, cofactors, water, ions), TER
/// after each polymer chain, CONECT for the bonds of HETATM atoms other than water (up to 99999 atoms),
/// END. Atom names, residue names and numbers, insertion codes and elements are kept; chain names as
/// pdb_chain_ids (renames listed in REMARK 99). InputError naming `path` when it cannot be written,
/// UsageError on wrong array sizes. Returns the scale used.
PdbBFactorScale write_bfactor_pdb(const std::string& path, const System& system, Span<const Vec3> positions,
                                  const std::vector<double>& atom_values, const BFactorContent& content);

/// Writes an mmCIF file (one data block, an _atom_site loop: group_PDB, id, type_symbol, label_atom_id,
/// label_alt_id ('.'), label_comp_id, label_asym_id, label_entity_id, label_seq_id, pdbx_PDB_ins_code,
/// Cartn_x/y/z, occupancy, B_iso_or_equiv, pdbx_formal_charge, auth_seq_id, auth_comp_id, auth_asym_id,
/// auth_atom_id, pdbx_PDB_model_num) with B_iso_or_equiv = atom_values[a] unscaled (%.6g; NaN as '?'); chain
/// names as in the system. Errors as write_bfactor_pdb.
void write_bfactor_mmcif(const std::string& path, const System& system, Span<const Vec3> positions,
                         const std::vector<double>& atom_values, const BFactorContent& content);

}  // namespace hemeplm::evaluate
