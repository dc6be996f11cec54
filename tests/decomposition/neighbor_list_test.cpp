// The Kokkos cell list against the O(N^2) reference: the same neighbours and the same images, exactly,
// on random and real systems, with and without periodic boxes.
#include "hemeplm/decomposition/neighbor_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cell_list.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

Box orthorhombic(double a, double b, double c) {
  Box box;
  box.vectors = {Vec3{a, 0, 0}, Vec3{0, b, 0}, Vec3{0, 0, c}};
  return box;
}

std::vector<Vec3> uniform_points(int count, const Vec3& lo, const Vec3& hi, unsigned seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> x(lo.x, hi.x), y(lo.y, hi.y), z(lo.z, hi.z);
  std::vector<Vec3> points(static_cast<std::size_t>(count));
  for (Vec3& p : points) p = {x(random), y(random), z(random)};
  return points;
}

std::string image_text(const NeighborList& list, std::int64_t e) {
  if (list.images.empty()) return "";
  const auto& n = list.images[e];
  return " image (" + std::to_string(n[0]) + "," + std::to_string(n[1]) + "," + std::to_string(n[2]) + ")";
}

// Exact equality, reported at the first atom whose list differs (whole-vector dumps are unreadable).
void expect_same_lists(const NeighborList& fast, const NeighborList& reference) {
  ASSERT_EQ(fast.atom_count(), reference.atom_count());
  ASSERT_EQ(fast.images.empty(), reference.images.empty());
  for (int i = 0; i < fast.atom_count(); ++i) {
    const std::int64_t a = fast.offsets[i], b = reference.offsets[i];
    const std::int64_t na = fast.offsets[i + 1] - a, nb = reference.offsets[i + 1] - b;
    for (std::int64_t k = 0; k < std::min(na, nb); ++k) {
      const bool same = fast.neighbors[a + k] == reference.neighbors[b + k] &&
                        (fast.images.empty() || fast.images[a + k] == reference.images[b + k]);
      ASSERT_TRUE(same) << "atom " << i << " partner #" << k << ": cell list " << fast.neighbors[a + k]
                        << image_text(fast, a + k) << ", reference " << reference.neighbors[b + k]
                        << image_text(reference, b + k);
    }
    ASSERT_EQ(na, nb) << "atom " << i << ": partner counts differ";
  }
  EXPECT_EQ(fast.edge_count(), reference.edge_count());
  EXPECT_EQ(fast.cutoff, reference.cutoff);
}

// Sorted, no self, within the cutoff, and every pair present in both directions with the opposite
// image and the exactly opposite displacement.
void check_list(const NeighborList& list, const std::vector<Vec3>& positions, const std::optional<Box>& box) {
  ASSERT_EQ(list.atom_count(), static_cast<int>(positions.size()));
  ASSERT_EQ(list.offsets.front(), 0);
  ASSERT_EQ(list.offsets.back(), list.edge_count());
  ASSERT_EQ(list.images.size(), box ? list.neighbors.size() : 0u);
  for (int i = 0; i < list.atom_count(); ++i) {
    const auto row = list.neighbors_of(i);
    ASSERT_TRUE(std::adjacent_find(row.begin(), row.end(), [](int p, int q) { return p >= q; }) == row.end())
        << "atom " << i << ": partners not strictly ascending";
    for (std::int64_t e = list.offsets[i]; e < list.offsets[i + 1]; ++e) {
      const int j = list.neighbors[e];
      ASSERT_NE(j, i);
      const auto back_row = list.neighbors_of(j);
      const auto found = std::lower_bound(back_row.begin(), back_row.end(), i);
      ASSERT_TRUE(found != back_row.end() && *found == i) << "pair " << i << "-" << j << " is one-sided";
      const std::int64_t back = list.offsets[j] + (found - back_row.begin());
      if (box) {
        const auto& n = list.images[e];
        const auto& m = list.images[back];
        ASSERT_TRUE(n[0] == -m[0] && n[1] == -m[1] && n[2] == -m[2]) << "pair " << i << "-" << j;
      }
      const Vec3 d = list.displacement(positions, box, i, e);
      ASSERT_LT(norm2(d), list.cutoff * list.cutoff);
      ASSERT_EQ(d, -1.0 * list.displacement(positions, box, j, back));
    }
  }
}

Box triclinic_box() {
  Box box;
  box.vectors = {Vec3{30, 0, 0}, Vec3{8, 28, 0}, Vec3{-5, 6, 27}};
  return box;
}

double smallest_width(const Box& box) {
  const Vec3& a = box.vectors[0];
  const Vec3& b = box.vectors[1];
  const Vec3& c = box.vectors[2];
  const double volume = std::abs(dot(a, cross(b, c)));
  return std::min({volume / norm(cross(b, c)), volume / norm(cross(c, a)), volume / norm(cross(a, b))});
}

// Runs both searches, requires them to agree exactly and the list to be well formed; returns the list.
NeighborList compare(const std::vector<Vec3>& positions, double cutoff, const std::optional<Box>& box) {
  const NeighborList fast = find_neighbors(positions, cutoff, box);
  const NeighborList reference = find_neighbors_brute_force(positions, cutoff, box);
  expect_same_lists(fast, reference);
  check_list(fast, positions, box);
  return fast;
}

TEST(NeighborList, EmptyAndSingleAtom) {
  for (const auto& box : {std::optional<Box>{}, std::optional<Box>{orthorhombic(10, 10, 10)}}) {
    const NeighborList none = find_neighbors({}, 3.0, box);
    EXPECT_EQ(none.atom_count(), 0);
    EXPECT_EQ(none.offsets, std::vector<std::int64_t>{0});
    EXPECT_EQ(none.edge_count(), 0);

    const NeighborList one = find_neighbors(std::vector<Vec3>{{1, 2, 3}}, 3.0, box);
    EXPECT_EQ(one.atom_count(), 1);
    EXPECT_EQ(one.offsets, (std::vector<std::int64_t>{0, 0}));
    compare({{1, 2, 3}}, 3.0, box);
  }
}

TEST(NeighborList, TwoAtomsAndTheStrictCutoff) {
  // Exactly at the cutoff is out (|d| < cutoff), just inside is in.
  EXPECT_EQ(compare({{0, 0, 0}, {2, 0, 0}}, 2.0, std::nullopt).edge_count(), 0);
  const NeighborList in = compare({{0, 0, 0}, {1.999, 0, 0}}, 2.0, std::nullopt);
  EXPECT_EQ(in.neighbors, (std::vector<int>{1, 0}));
  EXPECT_TRUE(in.images.empty());
}

TEST(NeighborList, UniformRandomWithoutBox) {
  const std::vector<Vec3> points = uniform_points(2000, {0, 0, 0}, {30, 30, 30}, 11);
  for (const double cutoff : {1.0, 2.5, 5.0, 9.0}) {
    const NeighborList list = compare(points, cutoff, std::nullopt);
    // ~ density * 4/3 pi r^3 partners per atom, fewer at the surface.
    const double expected = 2000 / 27000.0 * 4.0 / 3.0 * M_PI * std::pow(cutoff, 3);
    const double mean = static_cast<double>(list.edge_count()) / 2000;
    EXPECT_GT(mean, 0.5 * expected) << "cutoff " << cutoff;
    EXPECT_LT(mean, 1.05 * expected) << "cutoff " << cutoff;
  }
}

TEST(NeighborList, ClusteredWithoutBox) {
  std::mt19937_64 random(7);
  std::normal_distribution<double> spread(0, 1.5);
  std::vector<Vec3> points;
  const Vec3 centres[] = {{0, 0, 0}, {40, 3, -2}, {5, 60, 1}, {-30, -30, 80}};
  for (const Vec3& c : centres) {
    for (int i = 0; i < 400; ++i) points.push_back(c + Vec3{spread(random), spread(random), spread(random)});
  }
  points.push_back({1000, -1000, 500});  // a far outlier makes the bounding box mostly empty
  compare(points, 3.0, std::nullopt);
  compare(points, 6.0, std::nullopt);
}

TEST(NeighborList, OrthorhombicBoxWithUnwrappedAtoms) {
  const Box box = orthorhombic(30, 25, 35);
  // Atoms anywhere, including several boxes away: images are integer lattice shifts, never wrapping.
  const std::vector<Vec3> points = uniform_points(1500, {-60, -50, -70}, {90, 75, 105}, 12);
  for (const double cutoff : {2.0, 4.0, 8.0}) {
    const NeighborList list = compare(points, cutoff, box);
    EXPECT_FALSE(list.images.empty());
  }
}

TEST(NeighborList, TriclinicBox) {
  const Box box = triclinic_box();
  const std::vector<Vec3> points = uniform_points(1500, {-10, -10, -10}, {40, 40, 40}, 13);
  for (const double cutoff : {3.0, 6.0}) compare(points, cutoff, box);
}

TEST(NeighborList, CutoffsAtTheBoxLimit) {
  // Half the smallest perpendicular width is the largest allowed cutoff; one cell (or two) per axis.
  for (const Box& box : {orthorhombic(12, 14, 13), triclinic_box()}) {
    const double limit = smallest_width(box) / 2;
    const std::vector<Vec3> points = uniform_points(600, {-5, -5, -5}, {35, 35, 35}, 14);
    compare(points, limit, box);
    compare(points, limit * (1 - 1e-12), box);
    compare(points, limit * 0.8, box);  // 2 cells on the short axes
    compare(points, limit * 0.6, box);  // 3 cells
  }
}

TEST(NeighborList, BoxTooSmallIsAUsageError) {
  const std::vector<Vec3> points = uniform_points(10, {0, 0, 0}, {10, 10, 10}, 15);
  for (auto* search : {&find_neighbors, &find_neighbors_brute_force}) {
    try {
      search(points, 5.1, orthorhombic(10, 20, 20));
      FAIL() << "expected a UsageError";
    } catch (const UsageError& error) {
      const std::string what = error.what();
      EXPECT_NE(what.find("perpendicular widths are 10, 20, 20"), std::string::npos) << what;
      EXPECT_NE(what.find("10.2"), std::string::npos) << what;
    }
  }
  EXPECT_NO_THROW(find_neighbors(points, 5.0, orthorhombic(10, 20, 20)));
}

TEST(NeighborList, BadInputIsAUsageError) {
  const std::vector<Vec3> points = {{0, 0, 0}, {1, 1, 1}};
  EXPECT_THROW(find_neighbors(points, 0.0, std::nullopt), UsageError);
  EXPECT_THROW(find_neighbors(points, -1.0, std::nullopt), UsageError);
  EXPECT_THROW(find_neighbors(points, std::nan(""), std::nullopt), UsageError);
  EXPECT_THROW(find_neighbors(points, INFINITY, std::nullopt), UsageError);
  const std::vector<Vec3> not_finite = {{0, 0, 0}, {NAN, 0, 0}};
  EXPECT_THROW(find_neighbors(not_finite, 1.0, std::nullopt), UsageError);
  Box flat = orthorhombic(10, 10, 10);
  flat.vectors[2] = flat.vectors[0] + flat.vectors[1];
  EXPECT_THROW(find_neighbors(points, 1.0, flat), UsageError);
  // Neighbours only through an image 200 boxes away cannot be stored in int8 images.
  const std::vector<Vec3> far = {{0, 0, 0}, {2001, 0, 0}};
  EXPECT_THROW(find_neighbors(far, 2.0, orthorhombic(10, 10, 10)), UsageError);
  EXPECT_THROW(find_neighbors_brute_force(far, 2.0, orthorhombic(10, 10, 10)), UsageError);
}

TEST(NeighborList, PointsExactlyOnCellBoundaries) {
  // A lattice with spacing equal to the cutoff (and half of it): many distances are exactly the cutoff
  // and many atoms sit exactly on cell faces.
  for (const double spacing : {2.0, 1.0}) {
    std::vector<Vec3> points;
    for (int x = 0; x < 8; ++x) {
      for (int y = 0; y < 8; ++y) {
        for (int z = 0; z < 8; ++z) points.push_back({x * spacing, y * spacing, z * spacing});
      }
    }
    compare(points, 2.0, std::nullopt);
    compare(points, 2.0, orthorhombic(8 * spacing, 8 * spacing, 8 * spacing));
    compare(points, 2.5, std::nullopt);
  }
}

TEST(NeighborList, DuplicatePointsAreNeighbours) {
  std::vector<Vec3> points = uniform_points(300, {0, 0, 0}, {12, 12, 12}, 16);
  for (int i = 0; i < 50; ++i) points.push_back(points[i * 3]);
  const NeighborList list = compare(points, 1.5, std::nullopt);
  for (int i = 0; i < 50; ++i) {
    const auto row = list.neighbors_of(i * 3);
    EXPECT_TRUE(std::binary_search(row.begin(), row.end(), 300 + i));
  }
  compare(points, 1.5, orthorhombic(12, 12, 12));
}

TEST(NeighborList, AllAtomsInOneCell) {
  const std::vector<Vec3> points = uniform_points(200, {3, 3, 3}, {3.5, 3.5, 3.5}, 17);
  const NeighborList list = compare(points, 5.0, std::nullopt);
  EXPECT_EQ(list.edge_count(), 200 * 199);
}

TEST(NeighborList, CutoffLargerThanTheSystem) {
  const std::vector<Vec3> points = uniform_points(300, {0, 0, 0}, {10, 10, 10}, 18);
  const NeighborList list = compare(points, 100.0, std::nullopt);
  EXPECT_EQ(list.edge_count(), 300 * 299);  // every pair, long lists go through the heap sort
}

TEST(NeighborList, HugeCoordinateSpanKeepsCellsBounded) {
  std::vector<Vec3> points = uniform_points(200, {0, 0, 0}, {10, 10, 10}, 19);
  const std::vector<Vec3> far = uniform_points(200, {1e9, -1e9, 1e8}, {1e9 + 10, -1e9 + 10, 1e8 + 10}, 20);
  points.insert(points.end(), far.begin(), far.end());
  const detail::CellGrid grid =
      detail::make_cell_grid(points, 4.0, std::nullopt, detail::default_max_cells(points.size()));
  EXPECT_LE(grid.cell_count(), detail::default_max_cells(points.size()));
  compare(points, 4.0, std::nullopt);
}

TEST(NeighborList, CoarseGridsGiveTheSameAnswer) {
  // Capping the cells (down to a single one) changes the work, never the list.
  const std::vector<Vec3> points = uniform_points(800, {-20, -20, -20}, {40, 40, 40}, 21);
  const Box box = triclinic_box();
  const auto lattice = detail::make_lattice("test", box, 4.0, points);
  for (const std::int64_t cap : {1, 8, 50, 1000000}) {
    for (const bool periodic : {false, true}) {
      const auto l = periodic ? std::optional<detail::Lattice>(lattice) : std::nullopt;
      const detail::CellGrid grid = detail::make_cell_grid(points, 4.0, l, cap);
      EXPECT_LE(grid.cell_count(), std::max<std::int64_t>(cap, 1));
      const NeighborList list =
          detail::search_cells(Kokkos::DefaultExecutionSpace(), "test", points, 4.0, grid);
      const auto b = periodic ? std::optional<Box>(box) : std::nullopt;
      expect_same_lists(list, find_neighbors_brute_force(points, 4.0, b));
    }
  }
}

TEST(NeighborList, DisplacementsAreExactNegatives) {
  const Box box = triclinic_box();
  const std::vector<Vec3> points = uniform_points(400, {-30, -30, -30}, {60, 60, 60}, 22);
  const NeighborList list = find_neighbors(points, 5.0, box);
  ASSERT_GT(list.edge_count(), 0);
  for (int i = 0; i < list.atom_count(); ++i) {
    for (std::int64_t e = list.offsets[i]; e < list.offsets[i + 1]; ++e) {
      const Vec3 d = list.displacement(points, box, i, e);
      const auto& n = list.images[e];
      const Vec3 shift = n[0] * box.vectors[0] + n[1] * box.vectors[1] + n[2] * box.vectors[2];
      const Vec3 direct = points[list.neighbors[e]] + shift - points[i];
      EXPECT_NEAR(norm(d - direct), 0.0, 1e-9);
    }
  }
  EXPECT_THROW(list.displacement(points, std::nullopt, 0, 0), UsageError);
}

TEST(FindOverlappingAtoms, FindsDuplicatesOnce) {
  std::vector<Vec3> points = uniform_points(500, {0, 0, 0}, {20, 20, 20}, 23);
  points.push_back(points[7]);                      // exact duplicate: pair (7, 500)
  points.push_back(points[42] + Vec3{0.05, 0, 0});  // clash: pair (42, 501)
  const auto pairs = find_overlapping_atoms(points, 0.1, std::nullopt);
  // Random points may clash among themselves too; those are found by brute force alike.
  const NeighborList reference = find_neighbors_brute_force(points, 0.1, std::nullopt);
  EXPECT_EQ(static_cast<std::int64_t>(pairs.size()) * 2, reference.edge_count());
  EXPECT_NE(std::find(pairs.begin(), pairs.end(), std::array<int, 2>{7, 500}), pairs.end());
  EXPECT_NE(std::find(pairs.begin(), pairs.end(), std::array<int, 2>{42, 501}), pairs.end());
  for (const auto& p : pairs) EXPECT_LT(p[0], p[1]);
  EXPECT_TRUE(find_overlapping_atoms(points, 0.0, std::nullopt).empty());
  EXPECT_THROW(find_overlapping_atoms(points, std::nan(""), std::nullopt), UsageError);
  // Across a periodic boundary.
  const std::vector<Vec3> wrapped = {{0.01, 5, 5}, {9.98, 5, 5}, {5, 5, 5}};
  const auto across = find_overlapping_atoms(wrapped, 0.1, orthorhombic(10, 10, 10));
  EXPECT_EQ(across, (std::vector<std::array<int, 2>>{{0, 1}}));
}

// --- real structures ----------------------------------------------------------------------------

System load(const std::string& path) {
  SystemSources sources;
  sources.structure = path;
  return load_system(sources);
}

// Every stride-th atom: the O(N^2) reference on the whole of a 20k-atom system takes seconds.
std::vector<Vec3> every(const std::vector<Vec3>& positions, std::size_t stride) {
  std::vector<Vec3> out;
  for (std::size_t i = 0; i < positions.size(); i += stride) out.push_back(positions[i]);
  return out;
}

double mean_partners(const NeighborList& list) {
  return static_cast<double>(list.edge_count()) / std::max(1, list.atom_count());
}

TEST(NeighborListRealStructures, FarnesyltransferaseWithHydrogens) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_1s63_ftase_proteinH.pdb");
  const System system = load(path);
  ASSERT_EQ(system.atom_count(), 11685);
  const NeighborList list = compare(system.positions, 5.0, std::nullopt);
  // A protein with hydrogens: ~0.1 atoms / Å^3, so ~50 partners inside, fewer at the surface.
  EXPECT_GT(mean_partners(list), 35);
  EXPECT_LT(mean_partners(list), 60);
  // Every covalent bond (at most ~2.1 Å, S-S) is a neighbour pair at 2.2 Å.
  const NeighborList close = compare(system.positions, 2.2, std::nullopt);
  std::vector<int> bond_offsets, bonded;
  system.bonded_neighbors(bond_offsets, bonded);
  for (int i = 0; i < system.atom_count(); ++i) {
    const auto row = close.neighbors_of(i);
    for (int b = bond_offsets[i]; b < bond_offsets[i + 1]; ++b) {
      EXPECT_TRUE(std::binary_search(row.begin(), row.end(), bonded[b]))
          << system.describe_atom(i) << " and " << system.describe_atom(bonded[b]) << " are bonded";
    }
  }
  EXPECT_TRUE(find_overlapping_atoms(system.positions, 0.5, std::nullopt).empty());
}

TEST(NeighborListRealStructures, SolvatedDhfrInItsCubicBox) {
  // The file has no CRYST1; the OpenMM benchmark it comes from uses a 62.23 Å cube.
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_dhfr_solvated_23558.pdb");
  const System system = load(path);
  ASSERT_EQ(system.atom_count(), 23558);
  const Box box = orthorhombic(62.23, 62.23, 62.23);
  const NeighborList list = find_neighbors(system.positions, 8.0, box);
  check_list(list, system.positions, box);
  compare(every(system.positions, 3), 8.0, box);
  // Periodic and dense: no surface, so partners = density * sphere volume within a few per cent.
  const double density = 23558 / std::pow(62.23, 3);
  EXPECT_NEAR(mean_partners(list), density * 4.0 / 3.0 * M_PI * 512, 0.05 * density * 4.0 / 3.0 * M_PI * 512);
  EXPECT_THROW(find_neighbors(system.positions, 31.2, box), UsageError);
}

TEST(NeighborListRealStructures, VacuumBoxFromCryst1) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_cln025_capped_vac.pdb");
  const System chignolin = load(path);
  ASSERT_TRUE(chignolin.box.has_value());
  compare(chignolin.positions, 6.0, chignolin.box);
  compare(chignolin.positions, 0.999 * smallest_width(*chignolin.box) / 2, chignolin.box);
}

TEST(NeighborListRealStructures, MonoclinicCrystalCells) {
  // Real non-orthogonal cells: 6A22 (beta 89.99 deg) and 3WIP (C2, beta 101.45 deg).
  HEMEPLM_REQUIRE_SHARED_DATA(rorg, "nr_lbd_6a22_rorg_ligand_xtal.pdb");
  const System lbd = load(rorg);
  ASSERT_TRUE(lbd.box.has_value());
  EXPECT_FALSE(lbd.box->is_orthorhombic());
  compare(lbd.positions, 6.0, lbd.box);

  HEMEPLM_REQUIRE_SHARED_DATA(achbp, "big_3wip_achbp_heavy.pdb");
  const System decamer = load(achbp);
  ASSERT_TRUE(decamer.box.has_value());
  const NeighborList list = find_neighbors(decamer.positions, 5.0, decamer.box);
  check_list(list, decamer.positions, decamer.box);
  compare(every(decamer.positions, 3), 5.0, decamer.box);
  EXPECT_GT(mean_partners(list), 10);  // heavy atoms only: sparser than with hydrogens
  EXPECT_LT(mean_partners(list), 40);
}

}  // namespace
}  // namespace hemeplm::decomposition
