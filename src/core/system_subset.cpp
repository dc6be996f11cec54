#include "hemeplm/core/system_subset.hpp"

#include <algorithm>

#include "hemeplm/core/features.hpp"

namespace hemeplm {

std::vector<int> heavy_atoms(const System& system) {
  std::vector<int> keep;
  keep.reserve(system.atom_count());
  for (int i = 0; i < system.atom_count(); ++i)
    if (!system.is_hydrogen(i)) keep.push_back(i);
  return keep;
}

System select_atoms(const System& system, Span<const int> keep) {
  System out;
  out.box = system.box;
  out.sources = system.sources;
  out.model_count = system.model_count;
  const bool has_features =
      system.features.size() == static_cast<std::size_t>(system.atom_count()) * kAtomFeatureCount;

  std::vector<int> new_atom(system.atom_count(), -1);
  std::vector<int> new_residue(system.residue_count(), -1);
  std::vector<int> new_chain(system.chains.size(), -1);
  for (int i : keep) {
    const int r = system.atom_residue[i];
    const Residue& old = system.residues[r];
    if (new_residue[r] < 0) {
      if (new_chain[old.chain] < 0) {
        new_chain[old.chain] = static_cast<int>(out.chains.size());
        Chain c = system.chains[old.chain];
        c.first_residue = out.residue_count();
        c.residue_count = 0;
        out.chains.push_back(c);
      }
      new_residue[r] = out.residue_count();
      Residue copy = old;
      copy.chain = new_chain[old.chain];
      copy.first_atom = out.atom_count();
      copy.atom_count = 0;
      out.residues.push_back(copy);
      ++out.chains[copy.chain].residue_count;
    }
    new_atom[i] = out.atom_count();
    ++out.residues[new_residue[r]].atom_count;
    out.positions.push_back(system.positions[i]);
    out.atomic_numbers.push_back(system.atomic_numbers[i]);
    out.atom_names.push_back(system.atom_names[i]);
    out.atom_residue.push_back(new_residue[r]);
    out.formal_charges.push_back(system.formal_charges[i]);
    out.origins.push_back(system.origins[i]);
    if (has_features) {
      const auto row = system.features.begin() + static_cast<std::ptrdiff_t>(i) * kAtomFeatureCount;
      out.features.insert(out.features.end(), row, row + kAtomFeatureCount);
    }
  }
  for (const Bond& b : system.bonds)
    if (new_atom[b.a] >= 0 && new_atom[b.b] >= 0)
      out.bonds.push_back({new_atom[b.a], new_atom[b.b], b.order});

  // Molecules keep their kind and name; residue lists are re-indexed and empty molecules dropped.
  for (const Molecule& m : system.molecules) {
    Molecule copy = m;
    copy.residues.clear();
    copy.atom_count = 0;
    for (int r : m.residues) {
      if (new_residue[r] < 0) continue;
      copy.residues.push_back(new_residue[r]);
      copy.atom_count += out.residues[new_residue[r]].atom_count;
    }
    if (copy.residues.empty()) continue;
    const int index = static_cast<int>(out.molecules.size());
    for (int r : copy.residues) out.residues[r].molecule = index;
    out.molecules.push_back(std::move(copy));
  }
  return out;
}

}  // namespace hemeplm
