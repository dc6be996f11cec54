// Residue-name tables: which residues are amino acids, caps, nucleotides, waters and monatomic ions.
// Internal to the core layer.
#pragma once

#include <string_view>

#include "hemeplm/core/system.hpp"

namespace hemeplm {

bool is_amino_acid_name(std::string_view residue_name);
bool is_cap_name(std::string_view residue_name);
bool is_nucleic_name(std::string_view residue_name);
bool is_water_name(std::string_view residue_name);

/// Element of a residue name that denotes a monatomic ion ("NA", "SOD", "CLA", "ZN", "K+"); 0 otherwise.
int ion_residue_element(std::string_view residue_name);

/// Residue names whose atom names never start with a two-letter element (amino acids, caps,
/// nucleotides, waters): the `residue_is_polymer` argument of infer_element_from_atom_name.
bool has_polymer_atom_names(std::string_view residue_name);

/// Known residue names of four characters ("TIP3"), which CHARMM writes over column 21.
bool is_four_character_residue_name(std::string_view name);

/// Kind of a receptor residue. `single_atom_element` is the element when the residue has exactly one
/// atom (0 otherwise). HETATM groups are kLigand without ligand files and kCofactor with them.
ResidueKind classify_residue(std::string_view residue_name, int single_atom_element, bool ligand_files_given);

/// Amino acids, caps and nucleotides: residues that link into chains.
inline bool is_polymer_kind(ResidueKind kind) {
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap || kind == ResidueKind::kNucleic;
}

}  // namespace hemeplm
