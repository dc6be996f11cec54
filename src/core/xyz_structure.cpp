// Extended XYZ as a structure. XYZ files carry no bonds, residues or charges, so connectivity comes from
// covalent radii (the same rule as for receptor groups without a template: r_i + r_j + 0.45 Å) found
// with a cell grid, so that a solvated box of many atoms still costs linear time.
#include "xyz_structure.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"

namespace hemeplm {
namespace {

constexpr double kCovalentTolerance = 0.45;  // Å added to r_i + r_j (as bonding.cpp and Open Babel)
constexpr double kMinimumBondLength = 0.1;   // Å: coincident atoms are a data error, not a bond

std::vector<Bond> covalent_bonds(const std::vector<Vec3>& positions, const std::vector<int>& z) {
  const int n = static_cast<int>(positions.size());
  double max_radius = 0;
  for (int zi : z) max_radius = std::max(max_radius, covalent_radius(zi));
  const double cell = 2 * max_radius + kCovalentTolerance;
  using Key = std::array<long, 3>;
  const auto key_of = [cell](const Vec3& p) {
    return Key{static_cast<long>(std::floor(p.x / cell)), static_cast<long>(std::floor(p.y / cell)),
               static_cast<long>(std::floor(p.z / cell))};
  };
  const auto hash = [](const Key& k) {
    return static_cast<std::size_t>(k[0] * 73856093L ^ k[1] * 19349663L ^ k[2] * 83492791L);
  };
  std::unordered_map<Key, std::vector<int>, decltype(hash)> cells(16, hash);
  for (int i = 0; i < n; ++i) cells[key_of(positions[i])].push_back(i);

  std::vector<Bond> bonds;
  for (int i = 0; i < n; ++i) {
    const Key k = key_of(positions[i]);
    for (long dx = -1; dx <= 1; ++dx)
      for (long dy = -1; dy <= 1; ++dy)
        for (long dz = -1; dz <= 1; ++dz) {
          const auto it = cells.find(Key{k[0] + dx, k[1] + dy, k[2] + dz});
          if (it == cells.end()) continue;
          for (int j : it->second) {
            if (j <= i) continue;
            const double limit = covalent_radius(z[i]) + covalent_radius(z[j]) + kCovalentTolerance;
            const double d2 = norm2(positions[i] - positions[j]);
            if (d2 < limit * limit && d2 > kMinimumBondLength * kMinimumBondLength)
              bonds.push_back({i, j, 1});
          }
        }
  }
  std::sort(bonds.begin(), bonds.end(),
            [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
  return bonds;
}

int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

System read_xyz_system(const std::string& path) {
  ExtxyzReader reader(path);
  ExtxyzFrame frame;
  reader.next(frame);  // throws for an empty or garbled first frame
  return xyz_frame_system(frame, path);
}

System xyz_frame_system(const ExtxyzFrame& frame, const std::string& path) {
  const int n = static_cast<int>(frame.positions.size());

  System system;
  system.sources = {path};
  system.positions = frame.positions;
  system.box = frame.box;
  std::unordered_map<int, int> per_element;
  for (int i = 0; i < n; ++i) {
    const int z = atomic_number(frame.species[i]);
    system.atomic_numbers.push_back(z);
    system.atom_names.push_back(std::string(element_symbol(z)) + std::to_string(++per_element[z]));
    system.formal_charges.push_back(0);
    system.origins.push_back({0, static_cast<int>(frame.first_line + 2 + i)});
  }
  system.bonds = covalent_bonds(system.positions, system.atomic_numbers);

  // Connected components; a residue is a maximal run of consecutive atoms of one component (residues
  // must be contiguous), a molecule is a whole component.
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (const Bond& b : system.bonds) parent[find_root(parent, b.a)] = find_root(parent, b.b);
  std::unordered_map<int, int> molecule_of_root;
  system.chains.push_back({"A", 0, 0});
  system.atom_residue.resize(n);
  for (int i = 0; i < n; ++i) {
    const int root = find_root(parent, i);
    const auto [it, added] = molecule_of_root.emplace(root, static_cast<int>(system.molecules.size()));
    if (added) {
      Molecule molecule;
      molecule.kind = MoleculeKind::kLigand;
      molecule.name = "MOL";
      system.molecules.push_back(std::move(molecule));
    }
    const int m = it->second;
    if (i == 0 || system.residues.back().molecule != m) {
      Residue residue;
      residue.name = "MOL";
      residue.seq = system.residue_count() + 1;
      residue.chain = 0;
      residue.first_atom = i;
      residue.kind = ResidueKind::kLigand;
      residue.molecule = m;
      system.molecules[m].residues.push_back(system.residue_count());
      system.residues.push_back(residue);
    }
    ++system.residues.back().atom_count;
    ++system.molecules[m].atom_count;
    system.atom_residue[i] = system.residue_count() - 1;
  }
  system.chains[0].residue_count = system.residue_count();
  return system;
}

}  // namespace hemeplm
