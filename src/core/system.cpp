// The System's small methods: names of kinds, box geometry, atom descriptions, bond adjacency.
#include "hemeplm/core/system.hpp"

#include <algorithm>
#include <cmath>

namespace hemeplm {

const char* to_string(ResidueKind kind) {
  switch (kind) {
    case ResidueKind::kAminoAcid:
      return "amino-acid";
    case ResidueKind::kCap:
      return "cap";
    case ResidueKind::kNucleic:
      return "nucleic";
    case ResidueKind::kWater:
      return "water";
    case ResidueKind::kIon:
      return "ion";
    case ResidueKind::kLigand:
      return "ligand";
    case ResidueKind::kCofactor:
      return "cofactor";
  }
  return "unknown";
}

const char* to_string(MoleculeKind kind) {
  switch (kind) {
    case MoleculeKind::kPolymer:
      return "polymer";
    case MoleculeKind::kLigand:
      return "ligand";
    case MoleculeKind::kCofactor:
      return "cofactor";
    case MoleculeKind::kWater:
      return "water";
    case MoleculeKind::kIon:
      return "ion";
    case MoleculeKind::kOther:
      return "other";
  }
  return "unknown";
}

bool Box::is_orthorhombic() const {
  // Off-diagonal components below 1e-6 of the vector length count as zero (CRYST1 angles of 90.00
  // give cos(90°) ≈ 6e-17, not 0).
  for (int i = 0; i < 3; ++i) {
    const double length = norm(vectors[i]);
    for (int k = 0; k < 3; ++k) {
      if (k != i && std::abs(vectors[i][k]) > 1e-6 * std::max(length, 1.0)) return false;
    }
  }
  return true;
}

double Box::volume() const {
  return std::abs(dot(vectors[0], cross(vectors[1], vectors[2])));
}

bool System::has_hydrogens() const {
  return std::any_of(atomic_numbers.begin(), atomic_numbers.end(), [](int z) { return z == 1; });
}

std::vector<int> System::ligand_molecules() const {
  std::vector<int> indices;
  for (int m = 0; m < static_cast<int>(molecules.size()); ++m) {
    if (molecules[m].kind == MoleculeKind::kLigand) indices.push_back(m);
  }
  return indices;
}

std::string System::describe_atom(int atom) const {
  std::string text = "atom " + std::to_string(atom);
  if (atom < 0 || atom >= atom_count()) return text;
  std::string where;
  if (atom < static_cast<int>(atom_names.size())) where = atom_names[atom];
  if (atom < static_cast<int>(atom_residue.size()) && atom_residue[atom] >= 0 &&
      atom_residue[atom] < residue_count()) {
    const Residue& residue = residues[atom_residue[atom]];
    where += " " + residue.name + " " + std::to_string(residue.seq);
    if (residue.insertion != ' ') where += residue.insertion;
    if (residue.chain >= 0 && residue.chain < static_cast<int>(chains.size()) &&
        !chains[residue.chain].name.empty()) {
      where += " chain " + chains[residue.chain].name;
    }
  }
  if (atom < static_cast<int>(origins.size())) {
    const AtomOrigin& origin = origins[atom];
    const bool known_source = origin.source >= 0 && origin.source < static_cast<int>(sources.size());
    if (origin.line > 0) {
      where += ", line " + std::to_string(origin.line);
      if (known_source) where += " of " + sources[origin.source];
    } else if (known_source) {
      where += ", " + sources[origin.source];
    }
  }
  if (!where.empty()) text += " (" + where + ")";
  return text;
}

void System::bonded_neighbors(std::vector<int>& offsets, std::vector<int>& neighbors) const {
  const int n = atom_count();
  offsets.assign(static_cast<std::size_t>(n) + 1, 0);
  for (const Bond& bond : bonds) {
    ++offsets[bond.a + 1];
    ++offsets[bond.b + 1];
  }
  for (int i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  neighbors.assign(static_cast<std::size_t>(offsets[n]), 0);
  std::vector<int> fill(offsets.begin(), offsets.end() - 1);
  for (const Bond& bond : bonds) {
    neighbors[fill[bond.a]++] = bond.b;
    neighbors[fill[bond.b]++] = bond.a;
  }
  for (int i = 0; i < n; ++i) std::sort(neighbors.begin() + offsets[i], neighbors.begin() + offsets[i + 1]);
}

}  // namespace hemeplm
