// The denoiser's graph (model-spec.md (d), `edge_order|3`): every pair of atoms joined by a path of at
// most max_hops covalent bonds, typed by bond order for direct bonds and by hop count otherwise. Pure
// topology: positions are never read, so the graph is the same for every frame of a trajectory.
#pragma once

#include <cstdint>
#include <vector>

#include "hemeplm/core/system.hpp"

namespace hemeplm {

/// Edge types of the bond-hop graph (the Emb(50, 4) rows of the denoiser; every type is < 50):
///   0  direct bond of an order outside 1..4 (core's readers never produce one)
///   1  single bond      2  double bond      3  triple bond      4  aromatic bond (Bond::kAromatic)
///   5  two bonds apart  6  three bonds apart  (k bonds apart: k + 3, for k >= 2)
/// "Apart" is the shortest path: atoms of a 3-ring are all direct neighbours, never 2-hop ones.
namespace bond_hop {
inline constexpr int kOtherBond = 0;
inline constexpr int kHop2 = 5;
inline constexpr int kHop3 = 6;
inline constexpr int kMaxHops = 46;  ///< so that the largest type, kMaxHops + 3, stays < 50
inline constexpr int kTypeCount = 50;
/// Type of a pair `hops` >= 2 bonds apart.
inline constexpr int hop_type(int hops) {
  return hops + 3;
}
}  // namespace bond_hop

/// Directed edges, both directions of every pair, sorted by (src, dst); no self pairs, no duplicates.
/// int64 so that the model layer copies them into tensors without a conversion.
struct BondGraph {
  std::vector<std::int64_t> src;
  std::vector<std::int64_t> dst;
  std::vector<std::int64_t> type;  ///< see bond_hop

  std::int64_t edge_count() const { return static_cast<std::int64_t>(src.size()); }
};

/// All pairs within max_hops bonds (0..bond_hop::kMaxHops; UsageError otherwise) of System::bonds.
/// One BFS per atom cut at max_hops, so the cost is linear in atoms for bounded valence.
BondGraph bond_hop_edges(const System& system, int max_hops = 3);

}  // namespace hemeplm
