// replicate_system: copies of a real structure on a grid, re-indexed, non-periodic.
#include "hemeplm/core/system_replicate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/features.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

constexpr char kChignolin[] = "chignolin_cln025_capped_vac.pdb";

Vec3 bounding_extent(const System& s) {
  Vec3 lo = s.positions.front(), hi = lo;
  for (const Vec3& p : s.positions) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
  }
  return hi - lo;
}

void expect_same_system(const System& a, const System& b) {
  EXPECT_EQ(a.positions, b.positions);
  EXPECT_EQ(a.atomic_numbers, b.atomic_numbers);
  EXPECT_EQ(a.atom_names, b.atom_names);
  EXPECT_EQ(a.atom_residue, b.atom_residue);
  EXPECT_EQ(a.formal_charges, b.formal_charges);
  EXPECT_EQ(a.features, b.features);
  ASSERT_EQ(a.origins.size(), b.origins.size());
  for (std::size_t i = 0; i < a.origins.size(); ++i) {
    EXPECT_EQ(a.origins[i].source, b.origins[i].source);
    EXPECT_EQ(a.origins[i].line, b.origins[i].line);
  }
  ASSERT_EQ(a.residue_count(), b.residue_count());
  for (int r = 0; r < a.residue_count(); ++r) {
    const Residue &x = a.residues[r], &y = b.residues[r];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.seq, y.seq);
    EXPECT_EQ(x.insertion, y.insertion);
    EXPECT_EQ(x.chain, y.chain);
    EXPECT_EQ(x.first_atom, y.first_atom);
    EXPECT_EQ(x.atom_count, y.atom_count);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.molecule, y.molecule);
  }
  ASSERT_EQ(a.chains.size(), b.chains.size());
  for (std::size_t c = 0; c < a.chains.size(); ++c) {
    EXPECT_EQ(a.chains[c].name, b.chains[c].name);
    EXPECT_EQ(a.chains[c].first_residue, b.chains[c].first_residue);
    EXPECT_EQ(a.chains[c].residue_count, b.chains[c].residue_count);
  }
  ASSERT_EQ(a.bonds.size(), b.bonds.size());
  for (std::size_t i = 0; i < a.bonds.size(); ++i) {
    EXPECT_EQ(a.bonds[i].a, b.bonds[i].a);
    EXPECT_EQ(a.bonds[i].b, b.bonds[i].b);
    EXPECT_EQ(a.bonds[i].order, b.bonds[i].order);
  }
  ASSERT_EQ(a.molecules.size(), b.molecules.size());
  for (std::size_t m = 0; m < a.molecules.size(); ++m) {
    EXPECT_EQ(a.molecules[m].kind, b.molecules[m].kind);
    EXPECT_EQ(a.molecules[m].name, b.molecules[m].name);
    EXPECT_EQ(a.molecules[m].residues, b.molecules[m].residues);
    EXPECT_EQ(a.molecules[m].atom_count, b.molecules[m].atom_count);
  }
  EXPECT_EQ(a.sources, b.sources);
  EXPECT_EQ(a.model_count, b.model_count);
}

TEST(SystemReplicate, CountsScaleAndCopiesAreTranslatedAndReindexed) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, kChignolin);
  const System original = load_system({path, {}});
  ASSERT_EQ(original.atom_count(), 175);
  ASSERT_FALSE(original.bonds.empty());
  ASSERT_TRUE(original.box.has_value());  // CRYST1 of the solvated box: dropped by replicate_system

  const int copies = 10;
  const double gap = 7.5;
  const System rep = replicate_system(original, copies, gap);
  const int n = original.atom_count(), nr = original.residue_count();
  const int nc = static_cast<int>(original.chains.size());
  const int nm = static_cast<int>(original.molecules.size());

  EXPECT_EQ(rep.atom_count(), copies * n);
  EXPECT_EQ(rep.residue_count(), copies * nr);
  EXPECT_EQ(rep.chains.size(), copies * original.chains.size());
  EXPECT_EQ(rep.molecules.size(), copies * original.molecules.size());
  EXPECT_EQ(rep.bonds.size(), copies * original.bonds.size());
  EXPECT_EQ(rep.atomic_numbers.size(), rep.positions.size());
  EXPECT_EQ(rep.atom_names.size(), rep.positions.size());
  EXPECT_EQ(rep.atom_residue.size(), rep.positions.size());
  EXPECT_EQ(rep.formal_charges.size(), rep.positions.size());
  EXPECT_EQ(rep.origins.size(), rep.positions.size());
  ASSERT_EQ(rep.features.size(), static_cast<std::size_t>(rep.atom_count()) * kAtomFeatureCount);
  EXPECT_FALSE(rep.box.has_value());

  // Grid for 10 copies: nx = 3, ny = 2, nz = 2; copy k in cell (k % 3, (k / 3) % 2, k / 6).
  const std::vector<Vec3> offsets = replication_offsets(original, copies, gap);
  ASSERT_EQ(offsets.size(), static_cast<std::size_t>(copies));
  const Vec3 step = bounding_extent(original) + Vec3{gap, gap, gap};
  for (int k = 0; k < copies; ++k) {
    const Vec3 expected{(k % 3) * step.x, ((k / 3) % 2) * step.y, (k / 6) * step.z};
    EXPECT_NEAR(offsets[k].x, expected.x, 1e-9) << "copy " << k;
    EXPECT_NEAR(offsets[k].y, expected.y, 1e-9) << "copy " << k;
    EXPECT_NEAR(offsets[k].z, expected.z, 1e-9) << "copy " << k;
  }

  for (int k = 0; k < copies; ++k) {
    for (int i = 0; i < n; ++i) {
      const int j = k * n + i;
      const Vec3 want = original.positions[i] + offsets[k];
      ASSERT_NEAR(rep.positions[j].x, want.x, 1e-9) << "copy " << k << " atom " << i;
      ASSERT_NEAR(rep.positions[j].y, want.y, 1e-9) << "copy " << k << " atom " << i;
      ASSERT_NEAR(rep.positions[j].z, want.z, 1e-9) << "copy " << k << " atom " << i;
      ASSERT_EQ(rep.atomic_numbers[j], original.atomic_numbers[i]);
      ASSERT_EQ(rep.atom_names[j], original.atom_names[i]);
      ASSERT_EQ(rep.formal_charges[j], original.formal_charges[i]);
      ASSERT_EQ(rep.atom_residue[j], original.atom_residue[i] + k * nr);
      for (int f = 0; f < kAtomFeatureCount; ++f)
        ASSERT_EQ(rep.features[static_cast<std::size_t>(j) * kAtomFeatureCount + f],
                  original.features[static_cast<std::size_t>(i) * kAtomFeatureCount + f])
            << "copy " << k << " atom " << i << " feature " << f;
    }
    for (int r = 0; r < nr; ++r) {
      const Residue& got = rep.residues[k * nr + r];
      const Residue& want = original.residues[r];
      EXPECT_EQ(got.name, want.name);
      EXPECT_EQ(got.seq, want.seq);
      EXPECT_EQ(got.kind, want.kind);
      EXPECT_EQ(got.first_atom, want.first_atom + k * n);
      EXPECT_EQ(got.atom_count, want.atom_count);
      EXPECT_EQ(got.chain, want.chain + k * nc);
      EXPECT_EQ(got.molecule, want.molecule + k * nm);
    }
    for (int m = 0; m < nm; ++m) {
      const Molecule& got = rep.molecules[k * nm + m];
      EXPECT_EQ(got.kind, original.molecules[m].kind);
      EXPECT_EQ(got.atom_count, original.molecules[m].atom_count);
      ASSERT_EQ(got.residues.size(), original.molecules[m].residues.size());
      for (std::size_t q = 0; q < got.residues.size(); ++q)
        EXPECT_EQ(got.residues[q], original.molecules[m].residues[q] + k * nr);
    }
  }

  // Bonds of copy k join atoms of copy k, in the same pattern, and stay sorted and unique.
  const std::size_t nb = original.bonds.size();
  for (int k = 0; k < copies; ++k)
    for (std::size_t b = 0; b < nb; ++b) {
      const Bond& got = rep.bonds[k * nb + b];
      ASSERT_EQ(got.a / n, k);
      ASSERT_EQ(got.b / n, k);
      ASSERT_EQ(got.a, original.bonds[b].a + k * n);
      ASSERT_EQ(got.b, original.bonds[b].b + k * n);
      ASSERT_EQ(got.order, original.bonds[b].order);
    }
  for (std::size_t b = 1; b < rep.bonds.size(); ++b) {
    const Bond &p = rep.bonds[b - 1], &q = rep.bonds[b];
    ASSERT_TRUE(p.a < q.a || (p.a == q.a && p.b < q.b)) << "bond " << b;
  }

  // Chain names are unique; copy 0 keeps the originals; chains map residues contiguously.
  std::set<std::string> names;
  for (const Chain& c : rep.chains) EXPECT_TRUE(names.insert(c.name).second) << "duplicate chain " << c.name;
  for (int c = 0; c < nc; ++c) EXPECT_EQ(rep.chains[c].name, original.chains[c].name);
  for (int c = 0; c < static_cast<int>(rep.chains.size()); ++c) {
    const Chain& chain = rep.chains[c];
    for (int r = chain.first_residue; r < chain.first_residue + chain.residue_count; ++r)
      ASSERT_EQ(rep.residues[r].chain, c);
  }

  // Copies are separated by at least `gap` along the axis where their cells differ.
  const Vec3 extent = bounding_extent(rep);
  EXPECT_NEAR(extent.x, 3 * step.x - gap, 1e-9);
  EXPECT_NEAR(extent.y, 2 * step.y - gap, 1e-9);
  EXPECT_NEAR(extent.z, 2 * step.z - gap, 1e-9);
}

TEST(SystemReplicate, OneCopyEqualsTheOriginalWithoutBox) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, kChignolin);
  const System original = load_system({path, {}});
  const System rep = replicate_system(original, 1);
  expect_same_system(rep, original);
  EXPECT_FALSE(rep.box.has_value());
  EXPECT_EQ(replication_offsets(original, 1).at(0), (Vec3{0, 0, 0}));
}

TEST(SystemReplicate, LigandsStayLigandsAndManyChainsGetUniqueNames) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "pl_184l_t4l99a_receptorH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "pl_184l_isobutylbenzene_ligand.sdf");
  const System original = load_system({receptor, {ligand}});
  const std::vector<int> ligands = original.ligand_molecules();
  ASSERT_EQ(ligands.size(), 1u);

  const int copies = 40;  // > 62 chains in all: names go beyond one character
  const System rep = replicate_system(original, copies, 0.0);
  ASSERT_EQ(rep.chains.size(), copies * original.chains.size());
  ASSERT_GT(rep.chains.size(), 62u);
  std::set<std::string> names;
  for (const Chain& c : rep.chains) EXPECT_TRUE(names.insert(c.name).second) << "duplicate chain " << c.name;

  const std::vector<int> rep_ligands = rep.ligand_molecules();
  ASSERT_EQ(rep_ligands.size(), static_cast<std::size_t>(copies));
  const int nm = static_cast<int>(original.molecules.size());
  for (int k = 0; k < copies; ++k) {
    const Molecule& m = rep.molecules[rep_ligands[k]];
    EXPECT_EQ(rep_ligands[k], ligands[0] + k * nm);
    EXPECT_EQ(m.name, original.molecules[ligands[0]].name);
    for (int r : m.residues) EXPECT_EQ(rep.residues[r].kind, ResidueKind::kLigand);
  }
  // Polymers of later copies are named after their new chains.
  for (int k = 1; k < copies; ++k)
    for (int m = 0; m < nm; ++m) {
      const Molecule& mol = rep.molecules[k * nm + m];
      if (mol.kind != MoleculeKind::kPolymer) continue;
      EXPECT_EQ(mol.name, rep.chains[rep.residues[mol.residues.front()].chain].name);
    }
}

TEST(SystemReplicate, BadArgumentsThrowUsageError) {
  System empty;
  EXPECT_THROW(replicate_system(empty, 0), UsageError);
  EXPECT_THROW(replicate_system(empty, -3), UsageError);
  EXPECT_THROW(replicate_system(empty, 2, -0.1), UsageError);
  EXPECT_THROW(replicate_system(empty, 2, std::numeric_limits<double>::quiet_NaN()), UsageError);
  EXPECT_THROW(replication_offsets(empty, 0), UsageError);
  EXPECT_EQ(replicate_system(empty, 5).atom_count(), 0);
}

}  // namespace
}  // namespace hemeplm
