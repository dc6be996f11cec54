#include "fragment_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace hemeplm::decomposition::detail {

BondGraph make_bond_graph(const System& system) {
  const int n = system.atom_count();
  BondGraph graph;
  graph.offsets.assign(static_cast<std::size_t>(n) + 1, 0);
  for (const Bond& bond : system.bonds) {
    ++graph.offsets[bond.a + 1];
    ++graph.offsets[bond.b + 1];
  }
  for (int i = 0; i < n; ++i) graph.offsets[i + 1] += graph.offsets[i];
  graph.neighbors.resize(static_cast<std::size_t>(graph.offsets[n]));
  std::vector<int> fill(graph.offsets.begin(), graph.offsets.end() - 1);
  for (const Bond& bond : system.bonds) {
    graph.neighbors[fill[bond.a]++] = bond.b;
    graph.neighbors[fill[bond.b]++] = bond.a;
  }
  for (int i = 0; i < n; ++i) {
    std::sort(graph.neighbors.begin() + graph.offsets[i], graph.neighbors.begin() + graph.offsets[i + 1]);
  }
  return graph;
}

bool is_protein_residue(ResidueKind kind) {
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap;
}

bool is_polymer_residue(ResidueKind kind) {
  return is_protein_residue(kind) || kind == ResidueKind::kNucleic;
}

int find_atom(const System& system, int residue, std::string_view name) {
  const Residue& res = system.residues[residue];
  for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) {
    if (system.atom_names[a] == name) return a;
  }
  return -1;
}

std::string describe_residue(const System& system, int residue) {
  const Residue& res = system.residues[residue];
  std::string text = res.name + " " + std::to_string(res.seq);
  if (res.insertion != ' ') text += res.insertion;
  if (res.chain >= 0 && res.chain < static_cast<int>(system.chains.size())) {
    text += " of chain " +
            (system.chains[res.chain].name.empty() ? std::string("(blank)") : system.chains[res.chain].name);
  }
  return text;
}

std::string describe_atom(const System& system, int atom) {
  return "atom " + std::to_string(atom + 1) + " (" + system.atom_names[atom] + " of " +
         describe_residue(system, system.atom_residue[atom]) + ")";
}

namespace {

// Backbone bond between consecutive residues: any covalent bond between them, or (for inputs whose
// bond table lacks inter-residue bonds) a C-N / O3'-P distance of a bond.
bool backbone_linked(const System& system, const BondGraph& bonds, int r1, int r2) {
  const Residue& first = system.residues[r1];
  const Residue& second = system.residues[r2];
  for (int a = first.first_atom; a < first.first_atom + first.atom_count; ++a) {
    for (int b : bonds.of(a)) {
      if (b >= second.first_atom && b < second.first_atom + second.atom_count) return true;
    }
  }
  constexpr double kMaxBackboneBond = 2.0;  // Å; C-N is 1.33, O3'-P 1.6
  const std::pair<const char*, const char*> links[] = {{"C", "N"}, {"O3'", "P"}, {"O3*", "P"}};
  for (const auto& [from, to] : links) {
    const int a = find_atom(system, r1, from);
    const int b = find_atom(system, r2, to);
    if (a >= 0 && b >= 0 && norm(system.positions[b] - system.positions[a]) <= kMaxBackboneBond) return true;
  }
  return false;
}

}  // namespace

std::vector<Segment> polymer_segments(const System& system, const BondGraph& bonds,
                                      bool (*accept)(ResidueKind)) {
  std::vector<Segment> segments;
  const int residue_count = system.residue_count();
  for (int r = 0; r < residue_count; ++r) {
    if (!accept(system.residues[r].kind)) continue;
    const bool continues =
        !segments.empty() && segments.back().first_residue + segments.back().residue_count == r &&
        segments.back().chain == system.residues[r].chain && backbone_linked(system, bonds, r - 1, r);
    if (continues) {
      ++segments.back().residue_count;
    } else {
      segments.push_back({system.residues[r].chain, r, 1});
    }
  }
  return segments;
}

std::vector<MoleculeGroup> non_polymer_molecules(const System& system) {
  std::vector<MoleculeGroup> groups(system.molecules.size());
  for (std::size_t m = 0; m < system.molecules.size(); ++m) groups[m].kind = system.molecules[m].kind;
  std::vector<MoleculeGroup> orphans;
  for (int r = 0; r < system.residue_count(); ++r) {
    const Residue& res = system.residues[r];
    if (is_polymer_residue(res.kind)) continue;
    MoleculeGroup* group = nullptr;
    if (res.molecule >= 0 && res.molecule < static_cast<int>(groups.size())) {
      group = &groups[res.molecule];
    } else {
      orphans.emplace_back();
      group = &orphans.back();
      group->kind = res.kind == ResidueKind::kWater      ? MoleculeKind::kWater
                    : res.kind == ResidueKind::kIon      ? MoleculeKind::kIon
                    : res.kind == ResidueKind::kCofactor ? MoleculeKind::kCofactor
                                                         : MoleculeKind::kLigand;
    }
    group->residues.push_back(r);
    for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) group->atoms.push_back(a);
  }
  std::vector<MoleculeGroup> result;
  result.reserve(groups.size() + orphans.size());
  for (auto* list : {&groups, &orphans}) {
    for (MoleculeGroup& group : *list) {
      if (group.atoms.empty()) continue;  // polymer molecules, handled by the segment code
      std::sort(group.atoms.begin(), group.atoms.end());
      result.push_back(std::move(group));
    }
  }
  return result;
}

NeighborList system_neighbors(const System& system, double cutoff) {
  return find_neighbors(Span<const Vec3>(system.positions), cutoff, system.box);
}

double edge_length(const NeighborList& list, const System& system, int i, std::int64_t e) {
  const int j = list.neighbors[e];
  Vec3 d = system.positions[j] - system.positions[i];
  if (!list.images.empty() && system.box) {
    const auto& n = list.images[e];
    for (int k = 0; k < 3; ++k) d += system.box->vectors[k] * static_cast<double>(n[k]);
  }
  return norm(d);
}

void sort_unique(std::vector<int>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace hemeplm::decomposition::detail
