// Formal charges of receptor atoms, consistent with the bond orders so that RDKit sees chemically
// valid valences: from the hydrogens where a residue has them, from pH-7 defaults where it does not.
#include <string_view>

#include "hemeplm/core/elements.hpp"
#include "receptor_chemistry.hpp"
#include "residue_kinds.hpp"
#include "residue_templates.hpp"

namespace hemeplm {
namespace {

struct BondCounts {
  std::vector<int> valence;    // sum of bond orders
  std::vector<int> hydrogens;  // bonded H
};

BondCounts count_bonds(const System& system) {
  BondCounts counts{std::vector<int>(system.atom_count(), 0), std::vector<int>(system.atom_count(), 0)};
  for (const Bond& bond : system.bonds) {
    const int order = bond.order == Bond::kAromatic ? 1 : bond.order;
    counts.valence[bond.a] += order;
    counts.valence[bond.b] += order;
    if (system.is_hydrogen(bond.a)) ++counts.hydrogens[bond.b];
    if (system.is_hydrogen(bond.b)) ++counts.hydrogens[bond.a];
  }
  return counts;
}

int usual_ion_charge(int z) {
  switch (z) {
    case 3:
    case 11:
    case 19:
    case 37:
    case 55:
    case 47:
    case 81:
    case 79:  // NOLINT
      return 1;
    case 9:
    case 17:
    case 35:
    case 53:  // NOLINT
      return -1;
    case 13:
    case 24:
    case 31:
    case 49:
    case 57:
    case 62:
    case 63:
    case 64:
    case 65:
    case 70:  // NOLINT
      return 3;
    default:
      return is_common_ion_element(z) ? 2 : 0;
  }
}

int atom_named(const System& system, const Residue& residue, std::string_view name) {
  for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
    if (template_atom_name(residue.name, system.atom_names[i]) == name) return i;
  }
  return -1;
}

class ResidueCharges {
 public:
  ResidueCharges(System& system, const BondCounts& counts, std::vector<int> bond_order_to)
      : system_(system), counts_(counts), order_to_(std::move(bond_order_to)) {}

  // With explicit hydrogens the valence says it all: N with four bonds is +1, a terminal O or S
  // without H is -1.
  void from_hydrogens(int residue_index) {
    const Residue& residue = system_.residues[residue_index];
    for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
      const int z = system_.atomic_numbers[i];
      const int valence = counts_.valence[i];
      if (z == 7 && valence == 4) system_.formal_charges[i] = 1;
      if ((z == 8 || z == 16) && valence == 1 && counts_.hydrogens[i] == 0) system_.formal_charges[i] = -1;
    }
    // Protonation tools (reduce) often leave the N terminus without H: give it the pH-7 NH3+ charge.
    const int n = atom_named(system_, residue, "N");
    if (n >= 0 && counts_.hydrogens[n] == 0 && is_chain_start(residue_index) && !bonded_outside(n, residue)) {
      system_.formal_charges[n] = 1;
    }
  }

  // Without hydrogens: the usual protonation states at pH 7, by residue name.
  void from_defaults(int residue_index) {
    const Residue& residue = system_.residues[residue_index];
    const std::string& name = residue.name;
    auto set = [&](std::string_view atom, int charge) {
      const int i = atom_named(system_, residue, atom);
      if (i >= 0) system_.formal_charges[i] = charge;
    };
    // The single-bonded end of a resonance pair carries the charge (-1) / the double-bonded one (+1).
    auto set_on_order = [&](std::string_view center, std::initializer_list<std::string_view> ends, int order,
                            int charge) {
      const int c = atom_named(system_, residue, center);
      if (c < 0) return;
      int present = 0;
      for (std::string_view end : ends) present += atom_named(system_, residue, end) >= 0 ? 1 : 0;
      if (present < 2) return;
      for (std::string_view end : ends) {
        const int e = atom_named(system_, residue, end);
        if (e >= 0 && bond_order(c, e) == order) {
          system_.formal_charges[e] = charge;
          return;
        }
      }
    };
    if (name == "LYS") set("NZ", 1);
    if (name == "ARG") set_on_order("CZ", {"NH2", "NH1", "NE"}, 2, 1);
    if (name == "ASP") set_on_order("CG", {"OD1", "OD2"}, 1, -1);
    if (name == "GLU") set_on_order("CD", {"OE1", "OE2"}, 1, -1);
    if (name == "HIP" || name == "HSP" || name == "HISH") set_on_order("CE1", {"ND1", "NE2"}, 2, 1);
    if (name == "CYM") set("SG", -1);
    set_on_order("C", {"O", "OXT"}, 1, -1);  // C-terminal carboxylate
    const int n = atom_named(system_, residue, "N");
    if (n >= 0 && is_chain_start(residue_index) && !bonded_outside(n, residue)) system_.formal_charges[n] = 1;
  }

 private:
  int bond_order(int a, int b) const {
    for (int k = order_to_[a]; k < order_to_[a + 1]; ++k) {
      const Bond& bond = system_.bonds[k];
      if (bond.b == b) return bond.order;
    }
    for (int k = order_to_[b]; k < order_to_[b + 1]; ++k) {
      const Bond& bond = system_.bonds[k];
      if (bond.b == a) return bond.order;
    }
    return 0;
  }
  bool bonded_outside(int atom, const Residue& residue) const {
    for (const Bond& bond : system_.bonds) {
      if (bond.a != atom && bond.b != atom) continue;
      const int other = bond.a == atom ? bond.b : bond.a;
      if (other < residue.first_atom || other >= residue.first_atom + residue.atom_count) return true;
    }
    return false;
  }
  // First polymer residue of its chain: a real N terminus, not a gap after a chain break.
  bool is_chain_start(int residue_index) const {
    if (residue_index == 0) return true;
    const Residue& previous = system_.residues[residue_index - 1];
    return previous.chain != system_.residues[residue_index].chain || !is_polymer_kind(previous.kind);
  }

  System& system_;
  const BondCounts& counts_;
  std::vector<int> order_to_;  // CSR over system.bonds by first atom (bonds are sorted by a)
};

}  // namespace

void assign_receptor_formal_charges(System& system, const std::vector<int>& file_charges) {
  const BondCounts counts = count_bonds(system);
  std::vector<int> first_bond_of(system.atom_count() + 1, 0);
  for (const Bond& bond : system.bonds) ++first_bond_of[bond.a + 1];
  for (int i = 0; i < system.atom_count(); ++i) first_bond_of[i + 1] += first_bond_of[i];
  ResidueCharges charges(system, counts, std::move(first_bond_of));

  system.formal_charges.assign(system.atom_count(), 0);
  for (int r = 0; r < system.residue_count(); ++r) {
    const Residue& residue = system.residues[r];
    const int begin = residue.first_atom, end = residue.first_atom + residue.atom_count;
    if (residue.kind == ResidueKind::kAminoAcid) {
      bool has_hydrogens = false;
      for (int i = begin; i < end && !has_hydrogens; ++i) has_hydrogens = system.is_hydrogen(i);
      if (has_hydrogens) {
        charges.from_hydrogens(r);
      } else {
        charges.from_defaults(r);
      }
    } else if (residue.kind == ResidueKind::kIon) {
      const int z = system.atomic_numbers[begin];
      system.formal_charges[begin] = file_charges[begin] != 0 ? file_charges[begin] : usual_ion_charge(z);
    } else {
      for (int i = begin; i < end; ++i) system.formal_charges[i] = file_charges[i];
    }
  }
}

}  // namespace hemeplm
