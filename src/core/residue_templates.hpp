// Heavy-atom bond templates with bond orders for amino acids (standard, protonation variants, MSE),
// terminal caps and the C-terminal OXT. Aromatic rings are written as Kekulé structures so that RDKit
// sees integral valences. Internal to the core layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hemeplm {

struct TemplateBond {
  std::string a, b;
  int order = 1;
};

/// Where a double bond may sit in one of several places (carboxylates, guanidinium, imidazole): the
/// double bond from `center` goes to one of `candidates`, chosen from where the hydrogens are;
/// without hydrogens, the first candidate wins.
struct ResonanceGroup {
  std::string center;
  std::vector<std::string> candidates;
};

struct ResidueTemplate {
  std::vector<TemplateBond> bonds;        ///< the template's default Kekulé structure
  std::vector<ResonanceGroup> resonance;  ///< double bonds to re-place once hydrogens are known
};

/// The template of a residue name, or nullptr (ligands, waters, nucleotides, unknown groups).
const ResidueTemplate* find_residue_template(std::string_view residue_name);

/// The template name of an atom: CHARMM/GROMACS aliases (OT1/OC1 -> O, OT2/OC2 -> OXT, ILE CD -> CD1,
/// NME C -> CH3); other names are returned unchanged.
std::string_view template_atom_name(std::string_view residue_name, std::string_view atom_name);

}  // namespace hemeplm
