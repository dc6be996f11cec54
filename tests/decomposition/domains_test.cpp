// Domains: K non-empty parts of the pooled residues, -1 for everything else, reproducible by seed.
#include "hemeplm/decomposition/domains.hpp"

#include <gtest/gtest.h>

#include <set>

#include "fragment_test_systems.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

bool pooled(ResidueKind kind) {
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap || kind == ResidueKind::kNucleic ||
         kind == ResidueKind::kCofactor;
}

void expect_valid(const System& system, const DomainMap& map) {
  ASSERT_EQ(map.residue_domain.size(), static_cast<std::size_t>(system.residue_count()));
  std::vector<int> size(map.count, 0);
  for (int r = 0; r < system.residue_count(); ++r) {
    const int d = map.residue_domain[r];
    if (!pooled(system.residues[r].kind)) {
      EXPECT_EQ(d, -1) << "residue " << r;
      continue;
    }
    ASSERT_GE(d, 0) << "residue " << r;
    ASSERT_LT(d, map.count) << "residue " << r;
    ++size[d];
  }
  for (int d = 0; d < map.count; ++d) EXPECT_GT(size[d], 0) << "domain " << d << " is empty";
  EXPECT_GE(map.edge_cut, 0);
}

System two_chains_far_apart() {
  System system;
  test::add_peptide(system, "A", test::mixed_residues(24));
  test::add_peptide(system, "B", test::mixed_residues(6), {0, 200, 0});
  test::add_ligand(system, {10, -5, 0});
  test::add_water(system, {30, 5, 0});
  test::finish(system);
  return system;
}

TEST(Domains, OneDomainIsTrivial) {
  const System system = two_chains_far_apart();
  const DomainMap map = partition_domains(system, {1, 8.0, 42});
  EXPECT_EQ(map.count, 1);
  EXPECT_EQ(map.edge_cut, 0);
  expect_valid(system, map);
}

TEST(Domains, DisconnectedGraphStillGivesKNonEmptyDomains) {
  const System system = two_chains_far_apart();
  for (int k : {2, 3, 5, 8, 12, 30}) {
    SCOPED_TRACE("K = " + std::to_string(k));
    const DomainMap map = partition_domains(system, {k, 8.0, 42});
    EXPECT_EQ(map.count, k);
    expect_valid(system, map);
  }
}

TEST(Domains, SameSeedSameMap) {
  const System system = two_chains_far_apart();
  const DomainMap a = partition_domains(system, {4, 8.0, 7});
  const DomainMap b = partition_domains(system, {4, 8.0, 7});
  EXPECT_EQ(a.residue_domain, b.residue_domain);
  EXPECT_EQ(a.edge_cut, b.edge_cut);
}

TEST(Domains, ChainSplitsIntoContiguousPieces) {
  System system;
  test::add_peptide(system, "A", test::mixed_residues(40));
  test::finish(system);
  const DomainMap map = partition_domains(system, {4, 8.0, 42});
  expect_valid(system, map);
  // A straight chain is a path-like graph: the best cut gives each domain one run of residues.
  int changes = 0;
  for (int r = 1; r < system.residue_count(); ++r)
    changes += map.residue_domain[r] != map.residue_domain[r - 1];
  EXPECT_EQ(changes, 3);
}

TEST(Domains, BadCountsAreUsageErrors) {
  const System system = two_chains_far_apart();
  EXPECT_THROW(partition_domains(system, {31, 8.0, 42}), UsageError);  // 30 pooled residues
  EXPECT_THROW(partition_domains(system, {0, 8.0, 42}), UsageError);
  EXPECT_THROW(partition_domains(system, {2, 0.0, 42}), UsageError);
}

TEST(DomainsReal, MultiChainNuclearReceptor) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "nr_lbd_6a22_rorg_ligand_xtal.pdb");
  const System system = load_system({path, {}});
  for (int k : {1, 4, 8, 16}) {
    SCOPED_TRACE("K = " + std::to_string(k));
    expect_valid(system, partition_domains(system, {k, 8.0, 42}));
  }
}

}  // namespace
}  // namespace hemeplm::decomposition
