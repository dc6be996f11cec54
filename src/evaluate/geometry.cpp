// Internal coordinates and backbone dihedrals (see geometry.hpp).
#include "hemeplm/evaluate/geometry.hpp"

#include <algorithm>
#include <cmath>

namespace hemeplm::evaluate {

std::vector<int> heavy_atoms(const System& system) {
  std::vector<int> atoms;
  for (int i = 0; i < system.atom_count(); ++i)
    if (system.atomic_numbers[i] > 1) atoms.push_back(i);
  return atoms;
}

InternalCoordinates heavy_internal_coordinates(const System& system) {
  std::vector<int> offsets, all_neighbors;
  system.bonded_neighbors(offsets, all_neighbors);
  const auto heavy = [&](int i) { return system.atomic_numbers[i] > 1; };
  // Heavy neighbours per atom, sorted (bonded_neighbors sorts).
  std::vector<std::vector<int>> neighbors(system.atom_count());
  for (int i = 0; i < system.atom_count(); ++i) {
    if (!heavy(i)) continue;
    for (int k = offsets[i]; k < offsets[i + 1]; ++k)
      if (heavy(all_neighbors[k])) neighbors[i].push_back(all_neighbors[k]);
  }
  InternalCoordinates ic;
  for (int b = 0; b < system.atom_count(); ++b) {
    const auto& nb = neighbors[b];
    for (std::size_t i = 0; i < nb.size(); ++i) {
      if (b < nb[i]) ic.bonds.push_back({b, nb[i]});
      for (std::size_t j = i + 1; j < nb.size(); ++j) ic.angles.push_back({nb[i], b, nb[j]});
    }
    for (int c : nb) {
      if (c < b) continue;
      for (int a : nb)
        for (int d : neighbors[c])
          if (a != c && d != b && a != d) ic.torsions.push_back({a, b, c, d});
    }
  }
  return ic;
}

double distance(const Vec3& a, const Vec3& b) {
  return norm(a - b);
}

double bond_angle(const Vec3& a, const Vec3& b, const Vec3& c) {
  const Vec3 u = a - b, v = c - b;
  return std::atan2(norm(cross(u, v)), dot(u, v));
}

double dihedral(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d) {
  const Vec3 b1 = b - a, b2 = c - b, b3 = d - c;
  const Vec3 n1 = cross(b1, b2), n2 = cross(b2, b3);
  return std::atan2(norm(b2) * dot(b1, n2), dot(n1, n2));
}

namespace {

int atom_named(const System& system, int residue, const char* name) {
  const Residue& r = system.residues[residue];
  for (int i = r.first_atom; i < r.first_atom + r.atom_count; ++i)
    if (system.atom_names[i] == name) return i;
  return -1;
}

bool bonded(const System& system, int a, int b) {
  if (a < 0 || b < 0) return false;
  const Bond key{std::min(a, b), std::max(a, b)};
  return std::binary_search(system.bonds.begin(), system.bonds.end(), key,
                            [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
}

bool is_peptide_residue(const System& system, int residue) {
  const ResidueKind kind = system.residues[residue].kind;
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap;
}

}  // namespace

BackboneDihedrals backbone_dihedrals(const System& system) {
  BackboneDihedrals out;
  for (int r = 0; r < system.residue_count(); ++r) {
    if (system.residues[r].kind != ResidueKind::kAminoAcid) continue;
    const int n = atom_named(system, r, "N"), ca = atom_named(system, r, "CA"),
              c = atom_named(system, r, "C");
    if (n < 0 || ca < 0 || c < 0) continue;
    int previous_c = -1, next_n = -1;
    if (r > 0 && is_peptide_residue(system, r - 1)) previous_c = atom_named(system, r - 1, "C");
    if (r + 1 < system.residue_count() && is_peptide_residue(system, r + 1)) {
      next_n = atom_named(system, r + 1, "N");
      if (bonded(system, c, next_n)) {
        int next_ca = atom_named(system, r + 1, "CA");
        if (next_ca < 0) next_ca = atom_named(system, r + 1, "CH3");  // NME cap
        if (next_ca < 0) next_ca = atom_named(system, r + 1, "C");    // NMA/NME written with C
        if (next_ca >= 0) out.omega.push_back({ca, c, next_n, next_ca});
      }
    }
    if (bonded(system, previous_c, n) && bonded(system, c, next_n)) {
      out.residues.push_back(r);
      out.phi.push_back({previous_c, n, ca, c});
      out.psi.push_back({n, ca, c, next_n});
    }
  }
  return out;
}

std::string residue_label(const System& system, int residue) {
  const Residue& r = system.residues[residue];
  std::string label = r.name + std::to_string(r.seq);
  if (r.insertion != ' ') label += r.insertion;
  if (r.chain >= 0 && r.chain < static_cast<int>(system.chains.size()) &&
      !system.chains[r.chain].name.empty())
    label += ":" + system.chains[r.chain].name;
  return label;
}

double radius_of_gyration(Span<const Vec3> frame, const std::vector<int>& atoms) {
  if (atoms.empty()) return 0.0;
  Vec3 center;
  for (int i : atoms) center += frame[i];
  center *= 1.0 / atoms.size();
  double sum = 0;
  for (int i : atoms) sum += norm2(frame[i] - center);
  return std::sqrt(sum / atoms.size());
}

}  // namespace hemeplm::evaluate
