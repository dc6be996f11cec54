// Hand-made Systems for the fragment, domain and plan tests: peptides built from small residue
// templates (real atom names and bonds, rough geometry), ligands, waters and ions. They need no
// structure reader, so these tests run even where the readers or ../shared/data are missing.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/system.hpp"

namespace hemeplm::test {

struct TemplateAtom {
  const char* name;
  int z;
  Vec3 offset;  ///< Å from the residue origin
};

/// Residue templates: atoms and intra-residue bonds. The backbone runs along +x; C sits 1.5 Å
/// before the next residue's N when residues are 3.8 Å apart.
struct ResidueTemplate {
  std::vector<TemplateAtom> atoms;
  std::vector<std::pair<const char*, const char*>> bonds;
};

inline ResidueTemplate residue_template(const std::string& name) {
  const TemplateAtom n{"N", 7, {0, 0, 0}}, h{"H", 1, {0, -1.0, 0}}, ca{"CA", 6, {1.0, 0.5, 0}},
      c{"C", 6, {2.3, -0.3, 0}}, o{"O", 8, {2.4, -1.5, 0}};
  if (name == "ALA") {
    return {{n,
             h,
             ca,
             {"HA", 1, {1.0, 1.5, 0.1}},
             {"CB", 6, {1.2, 0.3, 1.5}},
             {"HB1", 1, {1.2, 1.3, 1.9}},
             {"HB2", 1, {2.1, -0.1, 1.9}},
             {"HB3", 1, {0.4, -0.2, 2.0}},
             c,
             o},
            {{"N", "H"},
             {"N", "CA"},
             {"CA", "HA"},
             {"CA", "CB"},
             {"CB", "HB1"},
             {"CB", "HB2"},
             {"CB", "HB3"},
             {"CA", "C"},
             {"C", "O"}}};
  }
  if (name == "GLY") {
    return {{n, h, ca, {"HA2", 1, {1.0, 1.5, 0.1}}, {"HA3", 1, {1.0, 0.3, -1.0}}, c, o},
            {{"N", "H"}, {"N", "CA"}, {"CA", "HA2"}, {"CA", "HA3"}, {"CA", "C"}, {"C", "O"}}};
  }
  if (name == "PRO") {
    return {{n,
             {"CD", 6, {-0.2, 0.9, 1.2}},
             {"HD2", 1, {-1.2, 0.8, 1.6}},
             {"HD3", 1, {0.1, 1.9, 1.0}},
             {"CG", 6, {0.6, 0.2, 2.2}},
             {"HG2", 1, {0.1, -0.6, 2.7}},
             {"HG3", 1, {1.0, 0.9, 2.9}},
             {"CB", 6, {1.4, -0.2, 1.1}},
             {"HB2", 1, {2.4, 0.1, 1.3}},
             {"HB3", 1, {1.4, -1.2, 0.9}},
             ca,
             {"HA", 1, {1.0, 1.5, -0.4}},
             c,
             o},
            {{"N", "CD"},
             {"N", "CA"},
             {"CD", "HD2"},
             {"CD", "HD3"},
             {"CD", "CG"},
             {"CG", "HG2"},
             {"CG", "HG3"},
             {"CG", "CB"},
             {"CB", "HB2"},
             {"CB", "HB3"},
             {"CB", "CA"},
             {"CA", "HA"},
             {"CA", "C"},
             {"C", "O"}}};
  }
  if (name == "ACE") {
    return {{{"H1", 1, {0.5, 1.0, 0.1}},
             {"CH3", 6, {1.0, 0.5, 0}},
             {"H2", 1, {0.5, -0.2, 0.8}},
             {"H3", 1, {0.5, -0.2, -0.8}},
             c,
             o},
            {{"CH3", "H1"}, {"CH3", "H2"}, {"CH3", "H3"}, {"CH3", "C"}, {"C", "O"}}};
  }
  if (name == "NME") {
    return {{n,
             h,
             {"CH3", 6, {1.0, 0.5, 0}},
             {"HH31", 1, {1.0, 1.5, 0.1}},
             {"HH32", 1, {1.6, 0.2, 0.8}},
             {"HH33", 1, {1.6, 0.2, -0.8}}},
            {{"N", "H"}, {"N", "CH3"}, {"CH3", "HH31"}, {"CH3", "HH32"}, {"CH3", "HH33"}}};
  }
  return {};
}

inline int add_molecule(System& system, MoleculeKind kind, const std::string& name) {
  system.molecules.push_back({kind, name, {}, 0});
  return static_cast<int>(system.molecules.size()) - 1;
}

inline int add_residue(System& system, const std::string& name, ResidueKind kind, int chain, int molecule) {
  Residue residue;
  residue.name = name;
  residue.chain = chain;
  residue.first_atom = system.atom_count();
  residue.kind = kind;
  residue.molecule = molecule;
  residue.seq = system.chains[chain].residue_count + 1;
  if (system.chains[chain].residue_count == 0) system.chains[chain].first_residue = system.residue_count();
  ++system.chains[chain].residue_count;
  system.residues.push_back(residue);
  system.molecules[molecule].residues.push_back(system.residue_count() - 1);
  return system.residue_count() - 1;
}

inline int add_atom(System& system, const std::string& name, int z, const Vec3& position) {
  system.positions.push_back(position);
  system.atomic_numbers.push_back(z);
  system.atom_names.push_back(name);
  system.atom_residue.push_back(system.residue_count() - 1);
  system.formal_charges.push_back(0);
  system.origins.push_back({});
  ++system.residues.back().atom_count;
  ++system.molecules[system.residues.back().molecule].atom_count;
  return system.atom_count() - 1;
}

inline void add_bond(System& system, int a, int b) {
  system.bonds.push_back({std::min(a, b), std::max(a, b), 1});
}

inline int atom_named(const System& system, int residue, const std::string& name) {
  const Residue& res = system.residues[residue];
  for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) {
    if (system.atom_names[a] == name) return a;
  }
  return -1;
}

/// A peptide chain along +x starting at `origin` (residues 3.8 Å apart, peptide bonds between
/// consecutive residues unless `break_after` names the residue index before a chain break).
inline void add_peptide(System& system, const std::string& chain_name,
                        const std::vector<std::string>& residues, const Vec3& origin = {},
                        int break_after = -1) {
  system.chains.push_back({chain_name, system.residue_count(), 0});
  const int chain = static_cast<int>(system.chains.size()) - 1;
  const int molecule = add_molecule(system, MoleculeKind::kPolymer, chain_name);
  int previous = -1;
  for (std::size_t k = 0; k < residues.size(); ++k) {
    const std::string& name = residues[k];
    const ResidueKind kind = name == "ACE" || name == "NME" ? ResidueKind::kCap : ResidueKind::kAminoAcid;
    const double gap = break_after >= 0 && static_cast<int>(k) > break_after ? 6.0 : 0.0;
    const Vec3 base = origin + Vec3{3.8 * static_cast<double>(k) + gap, 0.2 * static_cast<double>(k % 2), 0};
    const int r = add_residue(system, name, kind, chain, molecule);
    const ResidueTemplate tmpl = residue_template(name);
    for (const TemplateAtom& atom : tmpl.atoms) add_atom(system, atom.name, atom.z, base + atom.offset);
    for (const auto& [a, b] : tmpl.bonds)
      add_bond(system, atom_named(system, r, a), atom_named(system, r, b));
    if (previous >= 0 && static_cast<int>(k) - 1 != break_after) {
      add_bond(system, atom_named(system, previous, "C"), atom_named(system, r, "N"));
    }
    previous = r;
  }
}

/// A one-residue molecule in a chain of its own; `bonds` index into `atoms`.
inline void add_small_molecule(System& system, const std::string& name, ResidueKind residue_kind,
                               MoleculeKind kind, const std::vector<TemplateAtom>& atoms,
                               const std::vector<std::pair<int, int>>& bonds, const Vec3& origin) {
  system.chains.push_back({name, system.residue_count(), 0});
  const int molecule = add_molecule(system, kind, name);
  add_residue(system, name, residue_kind, static_cast<int>(system.chains.size()) - 1, molecule);
  const int first = system.atom_count();
  for (const TemplateAtom& atom : atoms) add_atom(system, atom.name, atom.z, origin + atom.offset);
  for (const auto& [a, b] : bonds) add_bond(system, first + a, first + b);
}

inline void add_water(System& system, const Vec3& origin) {
  add_small_molecule(system, "HOH", ResidueKind::kWater, MoleculeKind::kWater,
                     {{"O", 8, {0, 0, 0}}, {"H1", 1, {0.96, 0, 0}}, {"H2", 1, {-0.24, 0.93, 0}}},
                     {{0, 1}, {0, 2}}, origin);
}

inline void add_ion(System& system, const Vec3& origin) {
  add_small_molecule(system, "NA", ResidueKind::kIon, MoleculeKind::kIon, {{"NA", 11, {0, 0, 0}}}, {},
                     origin);
}

/// A 4-heavy-atom ligand with hydrogens, 4 Å across.
inline void add_ligand(System& system, const Vec3& origin, const std::string& name = "LIG") {
  add_small_molecule(system, name, ResidueKind::kLigand, MoleculeKind::kLigand,
                     {{"C1", 6, {0, 0, 0}},
                      {"C2", 6, {1.5, 0, 0}},
                      {"C3", 6, {3.0, 0, 0}},
                      {"O4", 8, {4.2, 0.3, 0}},
                      {"H5", 1, {-0.4, 1.0, 0}},
                      {"H6", 1, {4.6, 1.1, 0}}},
                     {{0, 1}, {1, 2}, {2, 3}, {0, 4}, {3, 5}}, origin);
}

/// Sorts the bond table as System promises.
inline void finish(System& system) {
  std::sort(system.bonds.begin(), system.bonds.end(),
            [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
}

/// `count` residues cycling ALA, GLY, PRO, ALA (a mix of the three cap cases).
inline std::vector<std::string> mixed_residues(int count) {
  const char* cycle[] = {"ALA", "GLY", "ALA", "PRO"};
  std::vector<std::string> names;
  for (int k = 0; k < count; ++k) names.emplace_back(cycle[k % 4]);
  return names;
}

}  // namespace hemeplm::test
