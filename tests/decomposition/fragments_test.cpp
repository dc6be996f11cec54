// Denoising fragments: cores partition the atoms, buffers hold exactly the atoms within the radius
// (plus whole ligands), and the blending weights are a partition of unity.
#include "hemeplm/decomposition/fragments.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>

#include "fragment_test_systems.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

double distance(const System& system, int i, int j) {
  Vec3 d = system.positions[j] - system.positions[i];
  if (system.box && system.box->is_orthorhombic()) {
    for (int k = 0; k < 3; ++k) {
      const double length = system.box->vectors[k][k];
      const double shift = std::round(d[k] / length) * length;
      d -= Vec3{k == 0 ? shift : 0, k == 1 ? shift : 0, k == 2 ? shift : 0};
    }
  }
  return norm(d);
}

/// The invariants every denoise decomposition must satisfy. `complete` also checks, in O(N^2), that
/// no atom within the radius of a core is missing from the buffer.
void check_invariants(const System& system, const std::vector<Fragment>& fragments,
                      const DenoiseOptions& options, bool complete) {
  const int n = system.atom_count();
  std::vector<int> core_count(n, 0);
  std::vector<double> weight_sum(n, 0.0);
  std::vector<int> molecule_of(n, -1);
  for (int a = 0; a < n; ++a) molecule_of[a] = system.residue_of(a).molecule;
  for (const Fragment& f : fragments) {
    ASSERT_TRUE(std::is_sorted(f.core.begin(), f.core.end())) << "fragment " << f.id;
    ASSERT_TRUE(std::is_sorted(f.buffer.begin(), f.buffer.end())) << "fragment " << f.id;
    ASSERT_EQ(f.weights.size(), f.core.size() + f.buffer.size()) << "fragment " << f.id;
    ASSERT_FALSE(f.core.empty()) << "fragment " << f.id;
    for (int a : f.core) ++core_count[a];
    for (std::size_t k = 0; k < f.weights.size(); ++k) {
      const int a = k < f.core.size() ? f.core[k] : f.buffer[k - f.core.size()];
      EXPECT_GE(f.weights[k], 0.0);
      EXPECT_LE(f.weights[k], 1.0);
      weight_sum[a] += f.weights[k];
    }
    std::vector<char> in_buffer(n, 0), in_core(n, 0), ligand_reached(system.molecules.size(), 0);
    for (int a : f.buffer) in_buffer[a] = 1;
    for (int a : f.core) in_core[a] = 1;
    for (int a : f.buffer) {
      EXPECT_FALSE(in_core[a]) << "atom " << a << " in core and buffer of fragment " << f.id;
      double nearest = std::numeric_limits<double>::infinity();
      for (int c : f.core) nearest = std::min(nearest, distance(system, c, a));
      if (nearest < options.buffer && molecule_of[a] >= 0) ligand_reached[molecule_of[a]] = 1;
    }
    for (int a : f.buffer) {
      double nearest = std::numeric_limits<double>::infinity();
      for (int c : f.core) nearest = std::min(nearest, distance(system, c, a));
      const int m = molecule_of[a];
      const bool whole_ligand = m >= 0 && system.molecules[m].kind != MoleculeKind::kPolymer &&
                                system.molecules[m].kind != MoleculeKind::kWater &&
                                system.molecules[m].kind != MoleculeKind::kIon && ligand_reached[m];
      EXPECT_TRUE(nearest < options.buffer || whole_ligand)
          << "buffer atom " << a << " of fragment " << f.id << " is " << nearest << " Å from the core";
    }
    if (!complete) continue;
    for (int a = 0; a < n; ++a) {
      if (in_core[a] || in_buffer[a]) continue;
      for (int c : f.core) {
        ASSERT_GE(distance(system, c, a), options.buffer)
            << "atom " << a << " is within the buffer radius of fragment " << f.id << " but not in it";
      }
    }
  }
  for (int a = 0; a < n; ++a) {
    ASSERT_EQ(core_count[a], 1) << "atom " << a;
    EXPECT_NEAR(weight_sum[a], 1.0, 1e-12) << "atom " << a;
  }
}

/// 30 residues along x (114 Å), a ligand against residues 7-9 (mostly 8-9), a far ligand, waters near the
/// chain, bulk waters in two far clusters and an ion.
System mixed_system() {
  System system;
  test::add_peptide(system, "A", test::mixed_residues(30));
  test::add_ligand(system, {31, -4.0, 0});
  test::add_ligand(system, {40, 60, 0}, "FAR");
  test::add_water(system, {20, 4.5, 0});
  test::add_ion(system, {64, -4.5, 1});
  for (int k = 0; k < 4; ++k) test::add_water(system, {1 + 2.5 * k, -40, 0});
  for (int k = 0; k < 2; ++k) test::add_water(system, {90, -40 + 3.0 * k, 30});
  test::finish(system);
  return system;
}

int fragment_with_core_atom(const std::vector<Fragment>& fragments, int atom) {
  for (const Fragment& f : fragments) {
    if (std::binary_search(f.core.begin(), f.core.end(), atom)) return f.id;
  }
  return -1;
}

TEST(DenoiseFragments, InvariantsHoldForSeveralOptionSets) {
  const System system = mixed_system();
  for (DenoiseOptions options :
       {DenoiseOptions{}, DenoiseOptions{3, 6.0, 0.0, 4.5, 12.0}, DenoiseOptions{5, 10.0, 10.0, 4.0, 8.0},
        DenoiseOptions{8, 0.0, 0.0, 4.5, 12.0}}) {
    SCOPED_TRACE("core " + std::to_string(options.core_residues) + ", buffer " +
                 std::to_string(options.buffer) + ", blend " + std::to_string(options.blend));
    const auto fragments = make_denoise_fragments(system, options);
    for (std::size_t f = 0; f < fragments.size(); ++f) EXPECT_EQ(fragments[f].id, static_cast<int>(f));
    check_invariants(system, fragments, options, /*complete=*/true);
  }
}

TEST(DenoiseFragments, HardPartitionGivesBufferWeightZero) {
  const System system = mixed_system();
  DenoiseOptions options;
  options.blend = 0;
  for (const Fragment& f : make_denoise_fragments(system, options)) {
    for (std::size_t k = 0; k < f.weights.size(); ++k) EXPECT_EQ(f.weights[k], k < f.core.size() ? 1.0 : 0.0);
  }
}

TEST(DenoiseFragments, ShortTailIsMergedIntoThePreviousCore) {
  for (const auto& [residues, expected_cores] :
       {std::pair{30, 4}, std::pair{26, 3}, std::pair{28, 4}, std::pair{5, 1}}) {
    System system;
    test::add_peptide(system, "A", test::mixed_residues(residues));
    test::finish(system);
    const auto fragments = make_denoise_fragments(system, DenoiseOptions{});
    EXPECT_EQ(static_cast<int>(fragments.size()), expected_cores) << residues << " residues";
    EXPECT_EQ(fragments.back().residues.size(),
              static_cast<std::size_t>(residues - 8 * (expected_cores - 1)));
  }
}

TEST(DenoiseFragments, LigandsAndSolventGoWhereTheSpecSays) {
  const System system = mixed_system();
  const auto fragments = make_denoise_fragments(system, DenoiseOptions{});
  // Residues 0-7, 8-15, 16-23, 24-29 are the polymer cores; the ligand touches residues 8 and 9 with
  // four heavy atoms and residue 7 with two.
  const int ligand_atom = system.residues[30].first_atom;
  EXPECT_EQ(fragment_with_core_atom(fragments, ligand_atom), 1);
  // It reaches the buffer of its neighbours as a whole molecule.
  const Fragment& first = fragments[0];
  for (int a = ligand_atom; a < ligand_atom + 6; ++a) {
    EXPECT_TRUE(std::binary_search(first.buffer.begin(), first.buffer.end(), a)) << "ligand atom " << a;
  }
  // The far ligand is a fragment of its own, right after the polymer cores.
  const int far_atom = system.residues[31].first_atom;
  EXPECT_EQ(fragment_with_core_atom(fragments, far_atom), 4);
  // Near water (x=20) joins the core of residues 0-7; the ion (x=64) that of residues 16-23.
  EXPECT_EQ(fragment_with_core_atom(fragments, system.residues[32].first_atom), 0);
  EXPECT_EQ(fragment_with_core_atom(fragments, system.residues[33].first_atom), 2);
  // Bulk water: two clusters, two grid-cell fragments; the 4 waters at y=-40 share one.
  ASSERT_EQ(fragments.size(), 7u);
  EXPECT_EQ(fragments[5].core.size(), 12u);
  EXPECT_EQ(fragments[6].core.size(), 6u);
  EXPECT_EQ(fragments[5].kind, FragmentKind::kDenoise);
}

TEST(DenoiseFragments, BadOptionsAreUsageErrors) {
  const System system = mixed_system();
  EXPECT_THROW(make_denoise_fragments(system, DenoiseOptions{0, 8, 2, 4.5, 12}), UsageError);
  EXPECT_THROW(make_denoise_fragments(system, DenoiseOptions{8, -1, 0, 4.5, 12}), UsageError);
  EXPECT_THROW(make_denoise_fragments(system, DenoiseOptions{8, 4, 6, 4.5, 12}), UsageError);
  EXPECT_THROW(make_denoise_fragments(system, DenoiseOptions{8, 8, 2, 0, 12}), UsageError);
  EXPECT_THROW(make_denoise_fragments(system, DenoiseOptions{8, 8, 2, 4.5, 0}), UsageError);
}

TEST(DenoiseFragmentsReal, FarnesyltransferaseWithLigand) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  const System system = load_system({receptor, {ligand}});
  ASSERT_EQ(system.atom_count(), 11714);
  const DenoiseOptions options;
  const auto start = std::chrono::steady_clock::now();
  const auto fragments = make_denoise_fragments(system, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ timing   ] 1s63 + ligand (" << system.atom_count() << " atoms): " << fragments.size()
            << " denoise fragments in " << seconds << " s\n";
  check_invariants(system, fragments, options, /*complete=*/false);
  // The inhibitor (the last molecule) sits in the pocket, so it joins a polymer core.
  const int ligand_atom = system.atom_count() - 1;
  const int owner = fragment_with_core_atom(fragments, ligand_atom);
  ASSERT_GE(owner, 0);
  EXPECT_FALSE(fragments[owner].residues.size() == 1) << "the ligand should share a core with residues";
}

TEST(DenoiseFragmentsReal, SolvatedDhfr) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_dhfr_solvated_23558.pdb");
  const System system = load_system({path, {}});
  const DenoiseOptions options;
  const auto start = std::chrono::steady_clock::now();
  const auto fragments = make_denoise_fragments(system, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ timing   ] DHFR solvated (" << system.atom_count() << " atoms): " << fragments.size()
            << " denoise fragments in " << seconds << " s\n";
  check_invariants(system, fragments, options, /*complete=*/false);
}

}  // namespace
}  // namespace hemeplm::decomposition
