#include "hemeplm/core/bond_graph.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using Edge = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // (src, dst, type)

std::vector<Edge> edges_of(const BondGraph& g) {
  EXPECT_EQ(g.src.size(), g.dst.size());
  EXPECT_EQ(g.src.size(), g.type.size());
  std::vector<Edge> out;
  for (std::size_t e = 0; e < g.src.size(); ++e) out.emplace_back(g.src[e], g.dst[e], g.type[e]);
  return out;
}

/// A System with only what the bond graph reads: atom count and bonds.
System chain_system(int atoms, const std::vector<Bond>& bonds) {
  System s;
  s.positions.assign(atoms, Vec3{});
  s.atomic_numbers.assign(atoms, 6);
  s.bonds = bonds;
  std::sort(s.bonds.begin(), s.bonds.end(),
            [](const Bond& x, const Bond& y) { return std::make_pair(x.a, x.b) < std::make_pair(y.a, y.b); });
  return s;
}

/// O(N^3) reference: Floyd-Warshall shortest paths, then the documented type table.
std::vector<Edge> floyd_warshall_edges(const System& s, int max_hops) {
  const int n = s.atom_count();
  constexpr int kFar = 1 << 20;
  std::vector<int> d(static_cast<std::size_t>(n) * n, kFar);
  std::vector<int> order(static_cast<std::size_t>(n) * n, 0);
  for (int i = 0; i < n; ++i) d[i * n + i] = 0;
  for (const Bond& b : s.bonds) {
    d[b.a * n + b.b] = d[b.b * n + b.a] = 1;
    order[b.a * n + b.b] = order[b.b * n + b.a] = b.order;
  }
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < n; ++i) {
      const int dik = d[i * n + k];
      if (dik >= kFar) continue;
      for (int j = 0; j < n; ++j) d[i * n + j] = std::min(d[i * n + j], dik + d[k * n + j]);
    }
  }
  std::vector<Edge> out;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const int h = d[i * n + j];
      if (i == j || h > max_hops) continue;
      out.emplace_back(i, j, h == 1 ? order[i * n + j] : h + 3);
    }
  }
  return out;
}

TEST(BondGraph, TypesFollowTheTable) {
  // 0-1 single, 1-2 double, 2-3 aromatic, 3-4 triple, 4-5 single; 6-7-8 a 3-ring hanging off 5.
  const System s = chain_system(
      9, {{0, 1, 1}, {1, 2, 2}, {2, 3, 4}, {3, 4, 3}, {4, 5, 1}, {5, 6, 1}, {6, 7, 1}, {6, 8, 1}, {7, 8, 2}});
  const std::vector<Edge> e = edges_of(bond_hop_edges(s, 3));
  const auto type_of = [&](int a, int b) {
    for (const auto& [src, dst, type] : e) {
      if (src == a && dst == b) return static_cast<int>(type);
    }
    return -1;
  };
  EXPECT_EQ(type_of(0, 1), 1);
  EXPECT_EQ(type_of(2, 1), 2);
  EXPECT_EQ(type_of(2, 3), Bond::kAromatic);
  EXPECT_EQ(type_of(4, 3), 3);
  EXPECT_EQ(type_of(0, 2), bond_hop::kHop2);
  EXPECT_EQ(type_of(3, 0), bond_hop::kHop3);
  EXPECT_EQ(type_of(0, 4), -1);  // four bonds apart
  // In the ring, 7 and 8 are bonded (never 2-hop through 6), and 5 is two bonds from both.
  EXPECT_EQ(type_of(8, 7), 2);
  EXPECT_EQ(type_of(5, 7), bond_hop::kHop2);
  EXPECT_EQ(type_of(4, 8), bond_hop::kHop3);
  EXPECT_EQ(type_of(3, 7), -1);
  EXPECT_EQ(e, floyd_warshall_edges(s, 3));
  EXPECT_TRUE(std::is_sorted(e.begin(), e.end()));
}

TEST(BondGraph, HopLimits) {
  const System s = chain_system(5, {{0, 1, 1}, {1, 2, 1}, {2, 3, 1}, {3, 4, 1}});
  EXPECT_EQ(bond_hop_edges(s, 0).edge_count(), 0);
  EXPECT_EQ(bond_hop_edges(s, 1).edge_count(), 8);
  EXPECT_EQ(edges_of(bond_hop_edges(s, 4)), floyd_warshall_edges(s, 4));
  EXPECT_THROW(bond_hop_edges(s, -1), UsageError);
  EXPECT_THROW(bond_hop_edges(s, bond_hop::kMaxHops + 1), UsageError);
  EXPECT_LT(bond_hop::hop_type(bond_hop::kMaxHops), bond_hop::kTypeCount);
  EXPECT_EQ(bond_hop_edges(System{}, 3).edge_count(), 0);
}

TEST(BondGraph, ExampleComplexMatchesFloydWarshall) {
  // Protein (50 residues) + ibuprofen from the SDF's bond table: 434 atoms, small enough for O(N^3).
  const System s = load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
  ASSERT_GT(s.atom_count(), 400);
  const BondGraph g = bond_hop_edges(s);
  const std::vector<Edge> reference = floyd_warshall_edges(s, 3);
  EXPECT_EQ(edges_of(g), reference);
  // The SDF's bonds are Kekule (no aromatic order 4) and nothing is triple-bonded.
  std::set<std::int64_t> types(g.type.begin(), g.type.end());
  EXPECT_EQ(types, (std::set<std::int64_t>{1, 2, 5, 6}));
}

TEST(BondGraph, LargeProteinIsSymmetricAndLinear) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_1s63_ftase_proteinH.pdb");
  const System s = load_system({path, {}});
  const auto t0 = std::chrono::steady_clock::now();
  const BondGraph g = bond_hop_edges(s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ info ] " << g.edge_count() << " bond-hop edges of " << s.atom_count() << " atoms in "
            << seconds << " s\n";
  std::set<std::pair<std::int64_t, std::int64_t>> pairs;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> typed;
  for (std::int64_t e = 0; e < g.edge_count(); ++e) {
    ASSERT_NE(g.src[e], g.dst[e]);
    ASSERT_GE(g.type[e], 0);
    ASSERT_LT(g.type[e], bond_hop::kTypeCount);
    EXPECT_TRUE(pairs.emplace(g.src[e], g.dst[e]).second)
        << "duplicate edge " << g.src[e] << "->" << g.dst[e];
    typed.emplace(g.src[e], g.dst[e], g.type[e]);
  }
  for (const auto& [a, b, t] : typed)
    ASSERT_TRUE(typed.count({b, a, t})) << a << "->" << b << " has no reverse";
  // Every bond is an edge of its own order; bounded valence keeps the graph a few dozen edges per atom.
  EXPECT_EQ(std::count_if(g.type.begin(), g.type.end(), [](std::int64_t t) { return t >= 1 && t <= 4; }),
            2 * static_cast<std::int64_t>(s.bonds.size()));
  EXPECT_LT(g.edge_count(), 40LL * s.atom_count());
#ifdef NDEBUG
  EXPECT_LT(seconds, 1.0);
#endif
}

}  // namespace
}  // namespace hemeplm
