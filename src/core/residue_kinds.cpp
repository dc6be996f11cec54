// Residue-name tables for classifying receptor residues.
#include "residue_kinds.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "hemeplm/core/elements.hpp"

namespace hemeplm {
namespace {

// Standard amino acids plus the protonation/oxidation variants of Amber, CHARMM and GROMACS, and
// selenomethionine.
constexpr std::array<std::string_view, 39> kAminoAcids = {
    "ALA",  "ARG",  "ASN",  "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",  "LYS",  "MET",
    "PHE",  "PRO",  "SER",  "THR", "TRP", "TYR", "VAL", "HID", "HIE", "HIP", "HSD",  "HSE",  "HSP",
    "HISD", "HISE", "HISH", "CYX", "CYM", "ASH", "GLH", "LYN", "ARN", "MSE", "ASPP", "GLUP", "LSN"};

constexpr std::array<std::string_view, 4> kCaps = {"ACE", "NME", "NMA", "NH2"};

constexpr std::array<std::string_view, 20> kNucleotides = {"DA",  "DC",  "DG",  "DT",  "DU",  "DI",  "A",
                                                           "C",   "G",   "U",   "I",   "DA5", "DA3", "DC5",
                                                           "DC3", "DG5", "DG3", "DT5", "DT3", "RU"};

constexpr std::array<std::string_view, 12> kWaters = {"HOH", "WAT", "TIP3", "TIP4", "TIP5", "SOL",
                                                      "H2O", "DOD", "T3P",  "T4P",  "SPC",  "TIP"};

// Residue names of monatomic ions, with their element.
constexpr std::array<std::pair<std::string_view, int>, 45> kIonResidues = {{
    {"NA", 11},  {"NA+", 11}, {"SOD", 11}, {"K", 19},   {"K+", 19},  {"POT", 19}, {"CL", 17},  {"CL-", 17},
    {"CLA", 17}, {"CA", 20},  {"CAL", 20}, {"MG", 12},  {"MG2", 12}, {"ZN", 30},  {"ZN2", 30}, {"ZN+", 30},
    {"LI", 3},   {"LIT", 3},  {"RB", 37},  {"CS", 55},  {"CES", 55}, {"F", 9},    {"BR", 35},  {"IOD", 53},
    {"I", 53},   {"MN", 25},  {"FE", 26},  {"FE2", 26}, {"CO", 27},  {"NI", 28},  {"CU", 29},  {"CU1", 29},
    {"CD", 48},  {"HG", 80},  {"SR", 38},  {"BA", 56},  {"AL", 13},  {"AG", 47},  {"PB", 82},  {"TL", 81},
    {"PT", 78},  {"AU", 79},  {"CR", 24},  {"GA", 31},  {"YB", 70},
}};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& table, std::string_view name) {
  return std::find(table.begin(), table.end(), name) != table.end();
}

}  // namespace

bool is_amino_acid_name(std::string_view residue_name) {
  return contains(kAminoAcids, residue_name);
}
bool is_cap_name(std::string_view residue_name) {
  return contains(kCaps, residue_name);
}
bool is_nucleic_name(std::string_view residue_name) {
  return contains(kNucleotides, residue_name);
}
bool is_water_name(std::string_view residue_name) {
  return contains(kWaters, residue_name);
}

int ion_residue_element(std::string_view residue_name) {
  for (const auto& [name, z] : kIonResidues) {
    if (name == residue_name) return z;
  }
  return 0;
}

bool has_polymer_atom_names(std::string_view residue_name) {
  return is_amino_acid_name(residue_name) || is_cap_name(residue_name) || is_nucleic_name(residue_name) ||
         is_water_name(residue_name);
}

bool is_four_character_residue_name(std::string_view name) {
  return name.size() == 4 && (is_water_name(name) || is_amino_acid_name(name));
}

ResidueKind classify_residue(std::string_view residue_name, int single_atom_element,
                             bool ligand_files_given) {
  if (is_amino_acid_name(residue_name)) return ResidueKind::kAminoAcid;
  if (is_cap_name(residue_name)) return ResidueKind::kCap;
  if (is_water_name(residue_name)) return ResidueKind::kWater;
  if (single_atom_element != 0 &&
      (is_common_ion_element(single_atom_element) || ion_residue_element(residue_name) != 0)) {
    return ResidueKind::kIon;
  }
  if (is_nucleic_name(residue_name)) return ResidueKind::kNucleic;
  return ligand_files_given ? ResidueKind::kCofactor : ResidueKind::kLigand;
}

}  // namespace hemeplm
