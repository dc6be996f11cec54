// The bond-hop graph: one depth-limited BFS from every atom over the System's bond adjacency.
#include "hemeplm/core/bond_graph.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {

int direct_bond_type(int order) {
  return order >= 1 && order <= Bond::kAromatic ? order : bond_hop::kOtherBond;
}

}  // namespace

BondGraph bond_hop_edges(const System& system, int max_hops) {
  if (max_hops < 0 || max_hops > bond_hop::kMaxHops) {
    throw UsageError("bond graph: max_hops must be in [0, " + std::to_string(bond_hop::kMaxHops) + "], got " +
                     std::to_string(max_hops));
  }
  const int n = system.atom_count();
  std::vector<int> offsets;
  std::vector<int> neighbors;
  system.bonded_neighbors(offsets, neighbors);
  // Bond order of each adjacency entry, looked up once (bonds are sorted by (a, b), unique).
  std::vector<int> orders(neighbors.size(), 1);
  for (int i = 0; i < n; ++i) {
    for (int e = offsets[i]; e < offsets[i + 1]; ++e) {
      const int j = neighbors[e];
      const Bond key{std::min(i, j), std::max(i, j), 0};
      const auto it =
          std::lower_bound(system.bonds.begin(), system.bonds.end(), key,
                           [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
      orders[e] = direct_bond_type(it->order);
    }
  }

  BondGraph graph;
  // Per-BFS scratch reused for every source: `seen` holds the source that last reached an atom, so it
  // never needs clearing (no O(N) reset per atom).
  std::vector<int> seen(static_cast<std::size_t>(n), -1);
  std::vector<int> frontier;
  std::vector<int> next;
  std::vector<std::pair<int, int>> reached;  // (atom, type)
  for (int s = 0; s < n; ++s) {
    reached.clear();
    frontier.assign(1, s);
    seen[s] = s;
    for (int hop = 1; hop <= max_hops && !frontier.empty(); ++hop) {
      next.clear();
      for (int a : frontier) {
        for (int e = offsets[a]; e < offsets[a + 1]; ++e) {
          const int b = neighbors[e];
          if (seen[b] == s) continue;
          seen[b] = s;
          next.push_back(b);
          reached.emplace_back(b, hop == 1 ? orders[e] : bond_hop::hop_type(hop));
        }
      }
      frontier.swap(next);
    }
    std::sort(reached.begin(), reached.end());
    for (const auto& [atom, type] : reached) {
      graph.src.push_back(s);
      graph.dst.push_back(atom);
      graph.type.push_back(type);
    }
  }
  return graph;
}

}  // namespace hemeplm
