// Periodic-table data (Z = 1..118): symbols, masses and covalent radii, plus the rules that infer an
// element from a PDB atom name when the element column is empty.
#pragma once

#include <string_view>

namespace hemeplm {

/// Atomic number of an element symbol, case-insensitive ("C", "cl", "ZN"); 0 when unknown.
int atomic_number(std::string_view symbol);

/// Canonical symbol ("Cl") for Z in 1..118; "X" otherwise.
std::string_view element_symbol(int z);

/// Standard atomic mass in g/mol (Da); 0 for unknown Z.
double atomic_mass(int z);

/// Single-bond covalent radius in Å (Cordero et al. 2008); 1.5 Å for elements without a value.
/// AI2BMD cap placement uses H 0.31, C 0.76, N 0.71, O 0.66, which these values match.
double covalent_radius(int z);

/// True for the metals, halides and other elements that appear as monatomic ions in structure files.
bool is_common_ion_element(int z);

/// True for metals (Li, Be, Na, Mg, Al, K, Ca, Sc..Ga, Rb..Sn, Cs..Po, Fr and beyond): their bonds are
/// coordination, not covalent two-electron bonds, and a metal is the anchor of a cofactor (heme Fe).
bool is_metal(int z);

/// Infers the element of a PDB atom whose element column (77-78) is blank.
/// `name` is the 4-character atom-name field as written (columns 13-16, spaces kept) when available,
/// otherwise the trimmed name; `residue_is_polymer` is true for amino-acid and nucleic-acid residues,
/// whose atom names never start with a two-letter element. Returns 0 when no element fits.
int infer_element_from_atom_name(std::string_view name, bool residue_is_polymer);

}  // namespace hemeplm
