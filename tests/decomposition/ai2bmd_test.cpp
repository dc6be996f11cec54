// AI2BMD units: 2n-1 counts, dipeptide and ACE-NME composition, cap hydrogens, signed weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "fragment_test_systems.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/fragments.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

using test::add_peptide;

System peptide(const std::vector<std::string>& names) {
  System system;
  add_peptide(system, "A", names);
  test::finish(system);
  return system;
}

int count_kind(const std::vector<Fragment>& fragments, FragmentKind kind) {
  return static_cast<int>(
      std::count_if(fragments.begin(), fragments.end(), [&](const Fragment& f) { return f.kind == kind; }));
}

/// Sum over all units of the signed weight of each atom: AI2BMD's E = sum E_dip - sum E_ACE-NME.
std::vector<double> weight_sums(const System& system, const std::vector<Fragment>& fragments) {
  std::vector<double> sum(system.atom_count(), 0.0);
  for (const Fragment& f : fragments) {
    EXPECT_EQ(f.weights.size(), f.core.size());
    EXPECT_TRUE(f.buffer.empty());
    for (std::size_t k = 0; k < std::min(f.core.size(), f.weights.size()); ++k)
      sum[f.core[k]] += f.weights[k];
  }
  return sum;
}

TEST(Ai2bmd, CappedSingleResidueIsAUsageError) {
  // AI2BMD needs n >= 2 real residues (at least one peptide bond between amino acids).
  EXPECT_THROW(make_ai2bmd_fragments(peptide({"ACE", "ALA", "NME"})), UsageError);
}

TEST(Ai2bmd, CappedDipeptideUnitsKeepTheCapResidues) {
  const System system = peptide({"ACE", "ALA", "ALA", "NME"});
  const auto fragments = make_ai2bmd_fragments(system);
  ASSERT_EQ(fragments.size(), 3u);
  // ACE + ALA + (N H CA HA of the next ALA) + 2 caps on that CA = 6 + 10 + 4 + 2.
  EXPECT_EQ(fragments[0].core.size(), 20u);
  EXPECT_EQ(fragments[0].caps.size(), 2u);
  EXPECT_EQ(fragments[0].residues.front(), 1);  // central residue first
  EXPECT_EQ(fragments[2].core.size() + fragments[2].caps.size(), 22u);
}

TEST(Ai2bmd, CountIsTwoNMinusOneAndCapsFollowTheSpec) {
  // ALA GLY ALA PRO ALA GLY: 6 residues, no terminal caps.
  const System system = peptide({"ALA", "GLY", "ALA", "PRO", "ALA", "GLY"});
  const auto fragments = make_ai2bmd_fragments(system);
  ASSERT_EQ(fragments.size(), 11u);
  EXPECT_EQ(count_kind(fragments, FragmentKind::kDipeptide), 6);
  EXPECT_EQ(count_kind(fragments, FragmentKind::kAceNme), 5);
  for (std::size_t f = 0; f < fragments.size(); ++f) {
    EXPECT_EQ(fragments[f].kind, f % 2 == 0 ? FragmentKind::kDipeptide : FragmentKind::kAceNme) << f;
    EXPECT_EQ(fragments[f].id, static_cast<int>(f));
  }
  // Internal Ala between Gly (N-side: CA HA2 HA3 C O, 1 cap) and Pro (C-side: N CA HA, 3 caps).
  const Fragment& ala_before_pro = fragments[4];
  EXPECT_EQ(ala_before_pro.residues.front(), 2);
  EXPECT_EQ(ala_before_pro.core.size(), 5u + 10u + 3u);
  EXPECT_EQ(ala_before_pro.caps.size(), 1u + 3u);
  // Internal Gly between Ala and Ala: 4 + 7 + 4 atoms, 2 + 2 caps = 19.
  const Fragment& gly = fragments[2];
  EXPECT_EQ(gly.core.size() + gly.caps.size(), 19u);
  EXPECT_EQ(gly.caps.size(), 4u);
  // Internal Ala between Pro (N-side: 2 caps) and Ala: 4 + 10 + 4 atoms + 4 caps = 22.
  const Fragment& ala_after_pro = fragments[8];
  EXPECT_EQ(ala_after_pro.residues.front(), 4);
  EXPECT_EQ(ala_after_pro.core.size() + ala_after_pro.caps.size(), 22u);
}

TEST(Ai2bmd, AceNmeIsNMethylacetamide) {
  const System system = peptide({"ALA", "ALA", "ALA"});
  const auto fragments = make_ai2bmd_fragments(system);
  ASSERT_EQ(fragments.size(), 5u);
  const Fragment& overlap = fragments[1];
  ASSERT_EQ(overlap.kind, FragmentKind::kAceNme);
  EXPECT_EQ(overlap.core.size() + overlap.caps.size(), 12u);
  std::map<int, int> elements;  // Z -> count, cap hydrogens included
  for (int a : overlap.core) ++elements[system.atomic_numbers[a]];
  elements[1] += static_cast<int>(overlap.caps.size());
  const std::map<int, int> expected{{1, 7}, {6, 3}, {7, 1}, {8, 1}};  // Z = [1,6,1,1,6,8,7,1,6,1,1,1]
  EXPECT_EQ(elements, expected);
  // The overlap is exactly the intersection of the two dipeptides it joins.
  std::vector<int> shared;
  std::set_intersection(fragments[0].core.begin(), fragments[0].core.end(), fragments[2].core.begin(),
                        fragments[2].core.end(), std::back_inserter(shared));
  EXPECT_EQ(shared, overlap.core);
}

TEST(Ai2bmd, CapHydrogensSitOnTheCutBondAtCovalentLength) {
  const System system = peptide({"ALA", "ALA", "ALA"});
  for (const Fragment& fragment : make_ai2bmd_fragments(system)) {
    for (const CapHydrogen& cap : fragment.caps) {
      EXPECT_TRUE(std::binary_search(fragment.core.begin(), fragment.core.end(), cap.bonded_to));
      EXPECT_FALSE(std::binary_search(fragment.core.begin(), fragment.core.end(), cap.replaces));
      const Vec3 bond = cap.position - system.positions[cap.bonded_to];
      const Vec3 toward = system.positions[cap.replaces] - system.positions[cap.bonded_to];
      const double expected = system.atomic_numbers[cap.bonded_to] == 6 ? 1.07 : 1.02;
      EXPECT_NEAR(norm(bond), expected, 1e-12);
      EXPECT_NEAR(dot(bond, toward), norm(bond) * norm(toward), 1e-9);  // same direction
    }
  }
}

TEST(Ai2bmd, SignedWeightsSumToOnePerAtom) {
  System system;
  add_peptide(system, "A", {"ACE", "ALA", "GLY", "PRO", "ALA", "GLY", "NME"});
  add_peptide(system, "B", test::mixed_residues(9), {0, 20, 0});
  test::add_ligand(system, {5, -8, 0});
  test::add_water(system, {10, -12, 0});
  test::finish(system);
  const auto fragments = make_ai2bmd_fragments(system);
  EXPECT_EQ(count_kind(fragments, FragmentKind::kDipeptide), 5 + 9);
  EXPECT_EQ(count_kind(fragments, FragmentKind::kAceNme), 4 + 8);
  EXPECT_EQ(count_kind(fragments, FragmentKind::kMolecule), 2);
  const std::vector<double> sum = weight_sums(system, fragments);
  for (int a = 0; a < system.atom_count(); ++a) EXPECT_DOUBLE_EQ(sum[a], 1.0) << "atom " << a;
}

TEST(Ai2bmd, ChainBreakStartsANewSet) {
  System system;
  add_peptide(system, "A", test::mixed_residues(7), {}, /*break_after=*/3);
  test::finish(system);
  const auto fragments = make_ai2bmd_fragments(system);
  EXPECT_EQ(fragments.size(), static_cast<std::size_t>((2 * 4 - 1) + (2 * 3 - 1)));
  const std::vector<double> sum = weight_sums(system, fragments);
  for (int a = 0; a < system.atom_count(); ++a) EXPECT_DOUBLE_EQ(sum[a], 1.0) << "atom " << a;
}

TEST(Ai2bmd, ChainWithOneAminoAcidIsAUsageErrorNamingTheChain) {
  System system;
  add_peptide(system, "A", test::mixed_residues(4));
  add_peptide(system, "Q", {"ACE", "ALA", "NME"});
  test::finish(system);
  try {
    make_ai2bmd_fragments(system);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("chain Q"), std::string::npos) << error.what();
  }
}

std::vector<Fragment> fragments_of(const std::string& path) {
  return make_ai2bmd_fragments(load_system({path, {}}));
}

TEST(Ai2bmdReal, CappedChignolinGives19Units) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_cln025_capped_vac.pdb");
  const System system = load_system({path, {}});
  const auto fragments = make_ai2bmd_fragments(system);
  EXPECT_EQ(fragments.size(), 19u);
  const std::vector<double> sum = weight_sums(system, fragments);
  for (int a = 0; a < system.atom_count(); ++a) EXPECT_DOUBLE_EQ(sum[a], 1.0) << system.describe_atom(a);
  for (const Fragment& f : fragments) {
    if (f.kind == FragmentKind::kAceNme) {
      EXPECT_EQ(f.core.size() + f.caps.size(), 12u) << "unit " << f.id;
    }
  }
}

TEST(Ai2bmdReal, TrpCageGives39Units) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "trpcage_1l2y_nmr.pdb");
  const System system = load_system({path, {}});
  const auto fragments = make_ai2bmd_fragments(system);
  EXPECT_EQ(fragments.size(), 39u);
  const std::vector<double> sum = weight_sums(system, fragments);
  for (int a = 0; a < system.atom_count(); ++a) EXPECT_DOUBLE_EQ(sum[a], 1.0) << system.describe_atom(a);
}

TEST(Ai2bmdReal, LargeStructuresGiveTwoNMinusOnePerSegmentAndWeightsSumToOne) {
  HEMEPLM_REQUIRE_SHARED_DATA(ftase, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  HEMEPLM_REQUIRE_SHARED_DATA(dhfr, "big_dhfr_solvated_23558.pdb");
  for (const SystemSources& sources : {SystemSources{ftase, {ligand}}, SystemSources{dhfr, {}}}) {
    SCOPED_TRACE(sources.structure);
    const System system = load_system(sources);
    const auto fragments = make_ai2bmd_fragments(system);
    const int dipeptides = count_kind(fragments, FragmentKind::kDipeptide);
    const int overlaps = count_kind(fragments, FragmentKind::kAceNme);
    int amino_acids = 0;
    for (const Residue& residue : system.residues) amino_acids += residue.kind == ResidueKind::kAminoAcid;
    EXPECT_EQ(dipeptides, amino_acids);
    EXPECT_GT(overlaps, dipeptides - 10);  // one fewer per segment; the structures have few breaks
    std::cout << "[ units    ] " << sources.structure << ": " << dipeptides << " dipeptides, " << overlaps
              << " ACE-NME, " << count_kind(fragments, FragmentKind::kMolecule) << " molecules\n";
    const std::vector<double> sum = weight_sums(system, fragments);
    for (int a = 0; a < system.atom_count(); ++a) ASSERT_DOUBLE_EQ(sum[a], 1.0) << system.describe_atom(a);
  }
}

TEST(Ai2bmdReal, AlanineDipeptideFileHasTooFewResidues) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "ala2_vacuum_openmm.pdb");
  EXPECT_THROW(fragments_of(path), UsageError);
}

}  // namespace
}  // namespace hemeplm::decomposition
