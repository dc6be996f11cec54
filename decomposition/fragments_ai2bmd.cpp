// AI2BMD units (model-spec section (e), steps 1, 2 and 6): per protein segment of n amino acids,
// n capped dipeptides and n-1 ACE-NME peptide-bond units, with hydrogens on every cut covalent bond.
#include <algorithm>
#include <cctype>
#include <string>

#include "fragment_support.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/fragments.hpp"

namespace hemeplm::decomposition {

const char* to_string(FragmentKind kind) {
  switch (kind) {
    case FragmentKind::kDenoise:
      return "denoise";
    case FragmentKind::kDipeptide:
      return "dipeptide";
    case FragmentKind::kAceNme:
      return "ace_nme";
    case FragmentKind::kMolecule:
      return "molecule";
  }
  return "unknown";
}

namespace {

constexpr double kHydrogenCovalentRadius = 0.31;  // Å, AI2BMD's r_H

// HA, HA2, HA3 (AMBER/CHARMM) and 1HA, 2HA (PDB v2) are the alpha hydrogens.
bool is_alpha_hydrogen(const std::string& name) {
  if (name.rfind("HA", 0) == 0) return name.size() == 2 || std::isdigit(static_cast<unsigned char>(name[2]));
  return name.size() == 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
         name.compare(1, 2, "HA") == 0;
}

// The atoms a residue lends to the dipeptide of its successor ("ACE side": CA, HA*, C, O) and of its
// predecessor ("NME side": N, H, CA, HA*). Every other atom stays with its own dipeptide only, which
// is what makes the signed weights sum to one.
bool on_ace_side(const std::string& name) {
  return name == "CA" || name == "C" || name == "O" || is_alpha_hydrogen(name);
}
bool on_nme_side(const std::string& name) {
  return name == "N" || name == "H" || name == "HN" || name == "CA" || is_alpha_hydrogen(name);
}

void append_residue_atoms(const System& system, int residue, bool (*keep)(const std::string&),
                          std::vector<int>& atoms) {
  const Residue& res = system.residues[residue];
  for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) {
    if (keep == nullptr || keep(system.atom_names[a])) atoms.push_back(a);
  }
}

// One cap hydrogen per covalent bond from an included heavy atom to an excluded heavy atom.
std::vector<CapHydrogen> cap_hydrogens(const System& system, const detail::BondGraph& bonds,
                                       const std::vector<int>& atoms) {
  std::vector<CapHydrogen> caps;
  for (int a : atoms) {
    if (system.is_hydrogen(a)) continue;
    for (int b : bonds.of(a)) {
      if (system.is_hydrogen(b) || std::binary_search(atoms.begin(), atoms.end(), b)) continue;
      const Vec3 direction = system.positions[b] - system.positions[a];
      const double length = norm(direction);
      if (length <= 0) {
        throw UsageError("cannot place a cap hydrogen on " + detail::describe_atom(system, a) +
                         ": bonded atom " + detail::describe_atom(system, b) + " sits at the same position");
      }
      const double bond = covalent_radius(system.atomic_numbers[a]) + kHydrogenCovalentRadius;
      caps.push_back({a, b, system.positions[a] + direction * (bond / length)});
    }
  }
  return caps;
}

Fragment make_unit(const System& system, const detail::BondGraph& bonds, FragmentKind kind,
                   std::vector<int> atoms, std::vector<int> residues, double weight) {
  Fragment fragment;
  fragment.kind = kind;
  detail::sort_unique(atoms);
  fragment.caps = cap_hydrogens(system, bonds, atoms);
  fragment.weights.assign(atoms.size(), weight);
  fragment.core = std::move(atoms);
  fragment.residues = std::move(residues);
  return fragment;
}

// Units of one protein segment: the amino acids in order, with an optional leading (ACE) and trailing
// (NME, NH2) cap residue. Dipeptides and ACE-NME units are interleaved along the chain. A segment of
// one amino acid (a residue isolated by chain breaks in a longer chain) gives one dipeptide: 2n-1 = 1.
void add_segment_units(const System& system, const detail::BondGraph& bonds, const detail::Segment& segment,
                       std::vector<Fragment>& fragments) {
  std::vector<int> amino_acids;
  int leading_cap = -1;
  int trailing_cap = -1;
  for (int r = segment.first_residue; r < segment.first_residue + segment.residue_count; ++r) {
    if (system.residues[r].kind == ResidueKind::kAminoAcid) {
      if (trailing_cap >= 0) {
        throw UsageError("ai2bmd fragmentation: cap residue " +
                         detail::describe_residue(system, trailing_cap) + " sits inside a peptide chain");
      }
      amino_acids.push_back(r);
    } else if (amino_acids.empty() && leading_cap < 0) {
      leading_cap = r;
    } else if (!amino_acids.empty() && trailing_cap < 0) {
      trailing_cap = r;
    } else {
      throw UsageError("ai2bmd fragmentation: unexpected cap residue " + detail::describe_residue(system, r));
    }
  }
  if (amino_acids.empty()) {
    throw UsageError("ai2bmd fragmentation: segment starting at " +
                     detail::describe_residue(system, segment.first_residue) + " has caps but no amino acid");
  }
  const int n = static_cast<int>(amino_acids.size());
  for (int k = 0; k < n; ++k) {
    const int central = amino_acids[k];
    std::vector<int> atoms;
    std::vector<int> residues{central};
    if (k > 0) {
      append_residue_atoms(system, amino_acids[k - 1], on_ace_side, atoms);
      residues.push_back(amino_acids[k - 1]);
    } else if (leading_cap >= 0) {
      append_residue_atoms(system, leading_cap, nullptr, atoms);
      residues.push_back(leading_cap);
    }
    append_residue_atoms(system, central, nullptr, atoms);
    if (k + 1 < n) {
      append_residue_atoms(system, amino_acids[k + 1], on_nme_side, atoms);
      residues.push_back(amino_acids[k + 1]);
    } else if (trailing_cap >= 0) {
      append_residue_atoms(system, trailing_cap, nullptr, atoms);
      residues.push_back(trailing_cap);
    }
    fragments.push_back(
        make_unit(system, bonds, FragmentKind::kDipeptide, std::move(atoms), std::move(residues), 1.0));
    if (k + 1 < n) {
      std::vector<int> overlap;
      append_residue_atoms(system, central, on_ace_side, overlap);
      append_residue_atoms(system, amino_acids[k + 1], on_nme_side, overlap);
      fragments.push_back(make_unit(system, bonds, FragmentKind::kAceNme, std::move(overlap),
                                    {central, amino_acids[k + 1]}, -1.0));
    }
  }
}

}  // namespace

std::vector<Fragment> make_ai2bmd_fragments(const System& system) {
  const detail::BondGraph bonds = detail::make_bond_graph(system);
  for (int r = 0; r < system.residue_count(); ++r) {
    if (system.residues[r].kind == ResidueKind::kNucleic) {
      throw UsageError("ai2bmd fragmentation covers proteins only: " + detail::describe_residue(system, r) +
                       " is a nucleotide");
    }
  }
  // AI2BMD needs at least one peptide bond per chain; count amino acids per chain first so that the
  // message names the chain rather than a segment.
  std::vector<int> amino_acids_per_chain(system.chains.size(), 0);
  std::vector<bool> chain_has_protein(system.chains.size(), false);
  for (const Residue& res : system.residues) {
    if (res.chain < 0 || res.chain >= static_cast<int>(system.chains.size())) continue;
    if (res.kind == ResidueKind::kAminoAcid) ++amino_acids_per_chain[res.chain];
    if (detail::is_protein_residue(res.kind)) chain_has_protein[res.chain] = true;
  }
  for (std::size_t c = 0; c < system.chains.size(); ++c) {
    if (chain_has_protein[c] && amino_acids_per_chain[c] < 2) {
      throw UsageError("ai2bmd fragmentation needs at least 2 amino-acid residues per chain; chain " +
                       (system.chains[c].name.empty() ? std::string("(blank)") : system.chains[c].name) +
                       " has " + std::to_string(amino_acids_per_chain[c]));
    }
  }

  std::vector<Fragment> fragments;
  for (const detail::Segment& segment : detail::polymer_segments(system, bonds, detail::is_protein_residue)) {
    add_segment_units(system, bonds, segment, fragments);
  }
  for (const detail::MoleculeGroup& molecule : detail::non_polymer_molecules(system)) {
    fragments.push_back(
        make_unit(system, bonds, FragmentKind::kMolecule, molecule.atoms, molecule.residues, 1.0));
  }
  for (std::size_t f = 0; f < fragments.size(); ++f) fragments[f].id = static_cast<int>(f);
  return fragments;
}

}  // namespace hemeplm::decomposition
