// Receptor molecules: connected components of the bond graph, taken over residues so that a residue
// always belongs to exactly one molecule (chains joined by a disulfide become one molecule).
#include <numeric>

#include "receptor_chemistry.hpp"
#include "residue_kinds.hpp"

namespace hemeplm {
namespace {

class DisjointSets {
 public:
  explicit DisjointSets(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  // The smaller index stays the root, so components are numbered by their first residue.
  void unite(int a, int b) {
    a = find(a), b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

MoleculeKind kind_of(const System& system, const Molecule& molecule) {
  bool all_water = true, all_ion = true, any_ligand = false, any_cofactor = false;
  for (int r : molecule.residues) {
    const ResidueKind kind = system.residues[r].kind;
    if (is_polymer_kind(kind)) return MoleculeKind::kPolymer;
    all_water = all_water && kind == ResidueKind::kWater;
    all_ion = all_ion && kind == ResidueKind::kIon;
    any_ligand = any_ligand || kind == ResidueKind::kLigand;
    any_cofactor = any_cofactor || kind == ResidueKind::kCofactor;
  }
  if (all_water) return MoleculeKind::kWater;
  if (all_ion) return MoleculeKind::kIon;
  if (any_ligand) return MoleculeKind::kLigand;
  if (any_cofactor) return MoleculeKind::kCofactor;
  return MoleculeKind::kOther;
}

std::string name_of(const System& system, const Molecule& molecule) {
  std::string name;
  auto append = [&name](const std::string& part) {
    if (part.empty()) return;
    // Names of joined parts ("A+B"), each once.
    std::size_t start = 0;
    while (start <= name.size()) {
      const std::size_t stop = std::min(name.find('+', start), name.size());
      if (name.compare(start, stop - start, part) == 0 && stop - start == part.size()) return;
      start = stop + 1;
    }
    name += name.empty() ? part : "+" + part;
  };
  for (int r : molecule.residues) {
    const Residue& residue = system.residues[r];
    append(molecule.kind == MoleculeKind::kPolymer ? system.chains[residue.chain].name : residue.name);
  }
  return name;
}

}  // namespace

void assign_receptor_molecules(System& system) {
  const int residue_count = system.residue_count();
  DisjointSets sets(residue_count);
  for (const Bond& bond : system.bonds) sets.unite(system.atom_residue[bond.a], system.atom_residue[bond.b]);

  system.molecules.clear();
  std::vector<int> molecule_of_root(residue_count, -1);
  for (int r = 0; r < residue_count; ++r) {
    const int root = sets.find(r);
    if (molecule_of_root[root] < 0) {
      molecule_of_root[root] = static_cast<int>(system.molecules.size());
      system.molecules.emplace_back();
    }
    Molecule& molecule = system.molecules[molecule_of_root[root]];
    molecule.residues.push_back(r);
    molecule.atom_count += system.residues[r].atom_count;
    system.residues[r].molecule = molecule_of_root[root];
  }
  for (Molecule& molecule : system.molecules) {
    molecule.kind = kind_of(system, molecule);
    molecule.name = name_of(system, molecule);
  }
}

}  // namespace hemeplm
