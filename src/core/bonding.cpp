// Covalent bonds of the receptor: residue templates (with bond orders), hydrogens to their nearest
// heavy atom, covalent radii for groups without a template, peptide/nucleotide links, disulfides and
// CONECT records. Metal coordination is never turned into a covalent bond.
#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "hemeplm/core/elements.hpp"
#include "receptor_chemistry.hpp"
#include "residue_kinds.hpp"
#include "residue_templates.hpp"

namespace hemeplm {
namespace {

constexpr double kHydrogenBondCutoff = 1.35;  // Å: X-H bonds are 0.95-1.1 Å; 1.35 excludes H...H neighbours
constexpr double kCovalentTolerance = 0.45;   // Å added to r_i + r_j (as Open Babel does)
constexpr double kMinimumBondLength = 0.1;    // Å: coincident atoms are a data error, not a bond
constexpr double kPeptideBondCutoff = 2.0;    // Å: a longer C-N gap is a chain break
constexpr double kDisulfideCutoff = 2.5;      // Å: S-S bonds are 2.05 Å

double distance2(const System& system, int a, int b) {
  return norm2(system.positions[a] - system.positions[b]);
}

class BondSet {
 public:
  explicit BondSet(int atom_count) : degree_(atom_count, 0) {}

  bool contains(int a, int b) const { return order_.count(key(a, b)) != 0; }
  void add(int a, int b, int order) {
    if (a == b) return;
    if (order_.emplace(key(a, b), order).second) {
      ++degree_[a];
      ++degree_[b];
    }
  }
  void set_order(int a, int b, int order) {
    const auto it = order_.find(key(a, b));
    if (it != order_.end()) it->second = order;
  }
  int degree(int atom) const { return degree_[atom]; }

  std::vector<Bond> sorted_bonds() const {
    std::vector<Bond> bonds;
    bonds.reserve(order_.size());
    for (const auto& [k, order] : order_) {
      bonds.push_back({static_cast<int>(k >> 32), static_cast<int>(k & 0xffffffffu), order});
    }
    std::sort(bonds.begin(), bonds.end(),
              [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
    return bonds;
  }

 private:
  static std::uint64_t key(int a, int b) {
    if (a > b) std::swap(a, b);
    return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
  }
  std::unordered_map<std::uint64_t, int> order_;
  std::vector<int> degree_;
};

bool within_covalent_distance(const System& system, int a, int b) {
  const double limit = covalent_radius(system.atomic_numbers[a]) + covalent_radius(system.atomic_numbers[b]) +
                       kCovalentTolerance;
  const double d2 = distance2(system, a, b);
  return d2 < limit * limit && d2 > kMinimumBondLength * kMinimumBondLength;
}

int find_atom(const System& system, const Residue& residue, std::string_view name) {
  for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
    if (template_atom_name(residue.name, system.atom_names[i]) == name) return i;
  }
  return -1;
}

// Template bonds for the named heavy atoms; covalent radii for heavy atoms the template does not know.
void bond_template_residue(const System& system, const Residue& residue, const ResidueTemplate& tmpl,
                           BondSet& bonds) {
  std::unordered_map<std::string_view, int> atom_of_name;
  std::vector<int> unknown;
  for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
    if (system.is_hydrogen(i) || is_metal(system.atomic_numbers[i])) continue;
    const std::string_view name = template_atom_name(residue.name, system.atom_names[i]);
    const bool in_template = std::any_of(tmpl.bonds.begin(), tmpl.bonds.end(),
                                         [&](const TemplateBond& b) { return b.a == name || b.b == name; });
    if (!in_template || !atom_of_name.emplace(name, i).second) unknown.push_back(i);
  }
  for (const TemplateBond& bond : tmpl.bonds) {
    const auto a = atom_of_name.find(bond.a);
    const auto b = atom_of_name.find(bond.b);
    if (a != atom_of_name.end() && b != atom_of_name.end()) bonds.add(a->second, b->second, bond.order);
  }
  for (int u : unknown) {
    for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
      if (i == u || system.is_hydrogen(i) || is_metal(system.atomic_numbers[i])) continue;
      if (within_covalent_distance(system, u, i)) bonds.add(u, i, 1);
    }
  }
}

void bond_by_distance(const System& system, const Residue& residue, BondSet& bonds) {
  const int end = residue.first_atom + residue.atom_count;
  for (int i = residue.first_atom; i < end; ++i) {
    if (system.is_hydrogen(i) || is_metal(system.atomic_numbers[i])) continue;
    for (int j = i + 1; j < end; ++j) {
      if (system.is_hydrogen(j) || is_metal(system.atomic_numbers[j])) continue;
      if (within_covalent_distance(system, i, j)) bonds.add(i, j, 1);
    }
  }
}

// Every naming convention for hydrogens (HN/H, HT1, 1HB, HB3...) is covered by geometry.
void bond_hydrogens(const System& system, const Residue& residue, BondSet& bonds) {
  const int end = residue.first_atom + residue.atom_count;
  for (int h = residue.first_atom; h < end; ++h) {
    if (!system.is_hydrogen(h)) continue;
    int nearest = -1;
    double best = kHydrogenBondCutoff * kHydrogenBondCutoff;
    for (int i = residue.first_atom; i < end; ++i) {
      if (system.is_hydrogen(i) || is_metal(system.atomic_numbers[i])) continue;
      const double d2 = distance2(system, h, i);
      if (d2 < best) best = d2, nearest = i;
    }
    if (nearest >= 0) bonds.add(h, nearest, 1);
  }
}

// Puts each resonance double bond on the candidate with the fewest bonds (the one without the
// hydrogen); ties keep the template's preference.
void place_resonance_bonds(const System& system, const Residue& residue, const ResidueTemplate& tmpl,
                           BondSet& bonds) {
  for (const ResonanceGroup& group : tmpl.resonance) {
    const int center = find_atom(system, residue, group.center);
    if (center < 0) continue;
    std::vector<int> present;
    for (const std::string& name : group.candidates) {
      const int atom = find_atom(system, residue, name);
      if (atom >= 0 && bonds.contains(center, atom)) present.push_back(atom);
    }
    if (present.size() < 2) continue;
    int chosen = present.front();
    for (int atom : present) {
      if (bonds.degree(atom) < bonds.degree(chosen)) chosen = atom;
    }
    for (int atom : present) bonds.set_order(center, atom, atom == chosen ? 2 : 1);
  }
}

void link_consecutive_residues(const System& system, BondSet& bonds) {
  for (int r = 0; r + 1 < system.residue_count(); ++r) {
    const Residue& first = system.residues[r];
    const Residue& second = system.residues[r + 1];
    if (first.chain != second.chain || !is_polymer_kind(first.kind) || !is_polymer_kind(second.kind))
      continue;
    const bool nucleic = first.kind == ResidueKind::kNucleic && second.kind == ResidueKind::kNucleic;
    const int a = find_atom(system, first, nucleic ? "O3'" : "C");
    const int b = find_atom(system, second, nucleic ? "P" : "N");
    if (a < 0 || b < 0) continue;
    if (distance2(system, a, b) < kPeptideBondCutoff * kPeptideBondCutoff) bonds.add(a, b, 1);
  }
}

void link_disulfides(const System& system, BondSet& bonds) {
  std::vector<int> sulfurs;
  for (const Residue& residue : system.residues) {
    if (residue.kind != ResidueKind::kAminoAcid) continue;
    const int sg = find_atom(system, residue, "SG");
    if (sg >= 0 && system.atomic_numbers[sg] == 16) sulfurs.push_back(sg);
  }
  for (std::size_t i = 0; i < sulfurs.size(); ++i) {
    for (std::size_t j = i + 1; j < sulfurs.size(); ++j) {
      if (distance2(system, sulfurs[i], sulfurs[j]) < kDisulfideCutoff * kDisulfideCutoff) {
        bonds.add(sulfurs[i], sulfurs[j], 1);
      }
    }
  }
}

}  // namespace

void assign_receptor_bonds(System& system, const std::vector<std::array<int, 2>>& conect_pairs) {
  BondSet bonds(system.atom_count());
  for (const Residue& residue : system.residues) {
    if (residue.kind == ResidueKind::kIon) continue;
    const ResidueTemplate* tmpl =
        is_polymer_kind(residue.kind) ? find_residue_template(residue.name) : nullptr;
    if (tmpl != nullptr) {
      bond_template_residue(system, residue, *tmpl, bonds);
    } else {
      bond_by_distance(system, residue, bonds);
    }
    bond_hydrogens(system, residue, bonds);
    if (tmpl != nullptr) place_resonance_bonds(system, residue, *tmpl, bonds);
  }
  link_consecutive_residues(system, bonds);
  link_disulfides(system, bonds);
  for (const auto& [a, b] : conect_pairs) {
    if (is_metal(system.atomic_numbers[a]) || is_metal(system.atomic_numbers[b])) continue;
    if (system.residue_of(a).kind == ResidueKind::kIon || system.residue_of(b).kind == ResidueKind::kIon)
      continue;
    bonds.add(a, b, 1);  // no-op where a template already made the bond (keeps its order)
  }
  system.bonds = bonds.sorted_bonds();
}

}  // namespace hemeplm
