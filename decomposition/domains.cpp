// Residue -> domain map: METIS partition of the residue contact graph (anchors within the contact
// cutoff, plus sequence neighbours), repaired so that every one of the K domains is non-empty even
// when the graph is disconnected.
#include "hemeplm/decomposition/domains.hpp"

#include <metis.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "fragment_support.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::decomposition {
namespace {

bool is_pooled(ResidueKind kind) {
  return detail::is_polymer_residue(kind) || kind == ResidueKind::kCofactor;
}

/// C-alpha, else a metal atom (heme iron, zinc sites), else the first heavy atom, else the first atom.
int anchor_atom(const System& system, int residue) {
  const int ca = detail::find_atom(system, residue, "CA");
  if (ca >= 0 && system.atomic_numbers[ca] == 6) return ca;
  const Residue& res = system.residues[residue];
  int first_heavy = -1;
  for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) {
    if (is_metal(system.atomic_numbers[a])) return a;
    if (first_heavy < 0 && system.atomic_numbers[a] != 1) first_heavy = a;
  }
  return first_heavy >= 0 ? first_heavy : res.first_atom;
}

/// Symmetric CSR graph without self-loops, as METIS requires.
struct ContactGraph {
  std::vector<idx_t> xadj;
  std::vector<idx_t> adjncy;
};

ContactGraph contact_graph(const System& system, const std::vector<int>& pooled, double cutoff) {
  const int n = static_cast<int>(pooled.size());
  std::vector<Vec3> anchors(n);
  for (int v = 0; v < n; ++v) anchors[v] = system.positions[anchor_atom(system, pooled[v])];
  const NeighborList near = find_neighbors(Span<const Vec3>(anchors), cutoff, system.box);

  std::vector<std::vector<int>> adjacency(n);
  for (int v = 0; v < n; ++v) {
    for (int w : near.neighbors_of(v)) adjacency[v].push_back(w);
    // Sequence neighbours: consecutive pooled residues of one chain, even when far apart in space.
    if (v + 1 < n && pooled[v + 1] == pooled[v] + 1 &&
        system.residues[pooled[v]].chain == system.residues[pooled[v + 1]].chain &&
        detail::is_polymer_residue(system.residues[pooled[v]].kind) &&
        detail::is_polymer_residue(system.residues[pooled[v + 1]].kind)) {
      adjacency[v].push_back(v + 1);
      adjacency[v + 1].push_back(v);
    }
  }
  ContactGraph graph;
  graph.xadj.push_back(0);
  for (int v = 0; v < n; ++v) {
    detail::sort_unique(adjacency[v]);
    for (int w : adjacency[v]) {
      if (w != v) graph.adjncy.push_back(w);
    }
    graph.xadj.push_back(static_cast<idx_t>(graph.adjncy.size()));
  }
  return graph;
}

int edge_cut(const ContactGraph& graph, const std::vector<idx_t>& part) {
  int cut = 0;
  for (std::size_t v = 0; v + 1 < graph.xadj.size(); ++v) {
    for (idx_t e = graph.xadj[v]; e < graph.xadj[v + 1]; ++e) cut += part[v] != part[graph.adjncy[e]];
  }
  return cut / 2;
}

/// METIS may leave parts empty on disconnected or tiny graphs. Each empty part takes the vertex of
/// the largest part that has the fewest neighbours inside its own part (the cheapest one to move).
void fill_empty_parts(const ContactGraph& graph, int parts, std::vector<idx_t>& part) {
  std::vector<int> size(parts, 0);
  for (idx_t p : part) ++size[p];
  for (int empty = 0; empty < parts; ++empty) {
    if (size[empty] > 0) continue;
    const int largest = static_cast<int>(std::max_element(size.begin(), size.end()) - size.begin());
    int best = -1;
    int best_internal = 0;
    for (std::size_t v = 0; v < part.size(); ++v) {
      if (part[v] != largest) continue;
      int internal = 0;
      for (idx_t e = graph.xadj[v]; e < graph.xadj[v + 1]; ++e) internal += part[graph.adjncy[e]] == largest;
      if (best < 0 || internal < best_internal) best = static_cast<int>(v), best_internal = internal;
    }
    part[best] = empty;
    --size[largest];
    ++size[empty];
  }
}

std::vector<idx_t> metis_partition(ContactGraph& graph, int parts, int seed, bool recursive) {
  idx_t vertices = static_cast<idx_t>(graph.xadj.size()) - 1;
  idx_t constraints = 1;
  idx_t nparts = parts;
  idx_t objective = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = seed;
  options[METIS_OPTION_NUMBERING] = 0;
  std::vector<idx_t> part(vertices, 0);
  // METIS takes non-const pointers but does not modify the graph.
  const int status = recursive
                         ? METIS_PartGraphRecursive(&vertices, &constraints, graph.xadj.data(),
                                                    graph.adjncy.data(), nullptr, nullptr, nullptr, &nparts,
                                                    nullptr, nullptr, options, &objective, part.data())
                         : METIS_PartGraphKway(&vertices, &constraints, graph.xadj.data(),
                                               graph.adjncy.data(), nullptr, nullptr, nullptr, &nparts,
                                               nullptr, nullptr, options, &objective, part.data());
  if (status != METIS_OK) {
    throw Error("domain partition: METIS failed with status " + std::to_string(status) + " for " +
                std::to_string(vertices) + " residues and " + std::to_string(parts) + " domains");
  }
  fill_empty_parts(graph, parts, part);
  return part;
}

}  // namespace

DomainMap partition_domains(const System& system, const DomainOptions& options) {
  std::vector<int> pooled;
  for (int r = 0; r < system.residue_count(); ++r) {
    if (is_pooled(system.residues[r].kind)) pooled.push_back(r);
  }
  if (options.count < 1)
    throw UsageError("domains: the domain count must be at least 1, got " + std::to_string(options.count));
  if (options.count > static_cast<int>(pooled.size())) {
    throw UsageError("domains: " + std::to_string(options.count) +
                     " domains requested but the structure has only " + std::to_string(pooled.size()) +
                     " pooled residues (amino acids, caps, nucleotides, cofactors)");
  }
  if (!(options.contact_cutoff > 0)) throw UsageError("domains: contact_cutoff must be > 0 Å");

  DomainMap map;
  map.count = options.count;
  map.residue_domain.assign(system.residue_count(), -1);
  if (options.count == 1) {
    for (int r : pooled) map.residue_domain[r] = 0;
    return map;
  }
  ContactGraph graph = contact_graph(system, pooled, options.contact_cutoff);
  std::vector<idx_t> part = metis_partition(graph, options.count, options.seed, false);
  map.edge_cut = edge_cut(graph, part);
  if (options.count <= 8) {
    // Recursive bisection often cuts fewer contacts for small K; keep whichever is better.
    std::vector<idx_t> bisected = metis_partition(graph, options.count, options.seed, true);
    const int cut = edge_cut(graph, bisected);
    if (cut < map.edge_cut) part.swap(bisected), map.edge_cut = cut;
  }
  for (std::size_t v = 0; v < pooled.size(); ++v) map.residue_domain[pooled[v]] = static_cast<int>(part[v]);
  return map;
}

}  // namespace hemeplm::decomposition
