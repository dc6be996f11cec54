// Real structures from ../shared/data: atom counts, models, boxes, residue kinds, file order, bonds.
#include <gtest/gtest.h>

#include <chrono>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "receptor_test_support.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using test::count_hydrogens;
using test::count_kind;

bool is_protein(ResidueKind kind) {
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap;
}

// Every H has one bond; every C/N/O/S of an amino acid or cap has the valence of its charge state.
// With `skip_termini`, the first and last residue of each chain are left out (files whose termini
// miss atoms, such as a C terminus without OXT).
void expect_consistent_protein_valences(const System& system, bool skip_termini = false) {
  const std::vector<int> valence = test::valences(system);
  const bool explicit_h = system.has_hydrogens();
  for (int i = 0; i < system.atom_count(); ++i) {
    const ResidueKind kind = system.residue_of(i).kind;
    if (skip_termini) {
      const int r = system.atom_residue[i];
      const Chain& chain = system.chains[system.residues[r].chain];
      if (r == chain.first_residue || r == chain.first_residue + chain.residue_count - 1) continue;
      if (r + 1 < system.residue_count() && !is_protein(system.residues[r + 1].kind)) continue;
    }
    if (system.is_hydrogen(i)) {
      EXPECT_EQ(valence[i], 1) << system.describe_atom(i);
      continue;
    }
    if (kind != ResidueKind::kAminoAcid && kind != ResidueKind::kCap) continue;
    const int expected = test::expected_valence(system.atomic_numbers[i], system.formal_charges[i]);
    if (expected <= 0) continue;
    if (explicit_h) {
      EXPECT_EQ(valence[i], expected) << system.describe_atom(i);
    } else {
      EXPECT_LE(valence[i], expected) << system.describe_atom(i);  // RDKit adds the implicit H
    }
  }
}

TEST(ReceptorRealFiles, CappedChignolinHasTrueCovalentGraph) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_cln025_capped_vac.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 175);
  EXPECT_EQ(count_hydrogens(system), 78);
  EXPECT_EQ(system.residue_count(), 12);
  EXPECT_EQ(count_kind(system, ResidueKind::kCap), 2);
  EXPECT_EQ(system.residues.front().name, "ACE");
  EXPECT_EQ(system.residues.back().name, "NME");
  ASSERT_TRUE(system.box.has_value());
  EXPECT_NEAR(system.box->vectors[0].x, 59.921, 1e-3);
  EXPECT_TRUE(system.box->is_orthorhombic());
  // One connected molecule: bonds = atoms - 1 + rings. CLN025 = YYDPETGTWY: 3 Tyr + Trp (2) + Pro = 6.
  EXPECT_EQ(static_cast<int>(system.bonds.size()), system.atom_count() - 1 + 6);
  expect_consistent_protein_valences(system);
  ASSERT_EQ(system.molecules.size(), 1u);
  EXPECT_EQ(system.molecules[0].kind, MoleculeKind::kPolymer);
  // Peptide bonds join each residue to the next.
  for (int r = 0; r + 1 < system.residue_count(); ++r) {
    const int c = test::find_atom(system, r, "C");
    const int n = test::find_atom(system, r + 1, "N");
    ASSERT_GE(c, 0);
    ASSERT_GE(n, 0);
    EXPECT_TRUE(test::bonded(system, c, n)) << "residue " << r;
  }
  EXPECT_EQ(system.origins[0].line, 6);  // after REMARK, TITLE, REMARK, CRYST1, MODEL
}

TEST(ReceptorRealFiles, NmrChignolinKeepsFirstModelWithoutDummyBox) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_1uao_nmr.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 138);
  EXPECT_EQ(count_hydrogens(system), 61);
  EXPECT_EQ(system.model_count, 18);
  EXPECT_FALSE(system.box.has_value());
  EXPECT_EQ(system.residue_count(), 10);
  expect_consistent_protein_valences(system);
  // Free termini at pH 7 from the hydrogens: N-terminal NH3+ and C-terminal COO-.
  int charge = 0;
  for (int q : system.formal_charges) charge += q;
  EXPECT_EQ(charge, -2);  // GYDPETGTWG: +1 (N term) -1 (Asp) -1 (Glu) -1 (C term)
}

TEST(ReceptorRealFiles, TrpCageFirstOfThirtyEightModels) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "trpcage_1l2y_nmr.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 304);
  EXPECT_EQ(count_hydrogens(system), 150);
  EXPECT_EQ(system.model_count, 38);
  EXPECT_EQ(system.residue_count(), 20);
  EXPECT_FALSE(system.box.has_value());
  expect_consistent_protein_valences(system);
}

TEST(ReceptorRealFiles, CrystalChignolinWithWatersAndBox) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_cln025_5awl_xtal.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 105);
  EXPECT_EQ(count_kind(system, ResidueKind::kWater), 12);
  EXPECT_EQ(count_kind(system, ResidueKind::kAminoAcid), 10);
  EXPECT_FALSE(system.has_hydrogens());
  EXPECT_FALSE(system.box.has_value());  // this copy of 5AWL has no CRYST1
  int waters = 0;
  for (const Molecule& m : system.molecules) waters += m.kind == MoleculeKind::kWater ? 1 : 0;
  EXPECT_EQ(waters, 12);
  // Heavy-atom chemistry at pH 7: Asp and Glu carboxylates, free termini.
  int charge = 0;
  for (int q : system.formal_charges) charge += q;
  EXPECT_EQ(charge, -2);  // +1 N term, -1 Asp, -1 Glu, -1 C term (OXT)
  expect_consistent_protein_valences(system);
}

TEST(ReceptorRealFiles, OneWaterChainsWhoseIdsWrapAreDistinctResidues) {
  // OpenMM's writer puts each water in its own chain after a TER and reuses the chain letters, so
  // "HOH B 1" appears many times; gemmi starts a new chain part each time, and so do we.
  HEMEPLM_REQUIRE_SHARED_DATA(path, "ala2_explicit_openmm.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 2269);
  EXPECT_EQ(count_kind(system, ResidueKind::kWater), 749);
  EXPECT_EQ(system.molecules.size(), 750u);
  ASSERT_TRUE(system.box.has_value());
  EXPECT_NEAR(system.box->vectors[0].x, 32.853, 1e-3);
}

TEST(ReceptorRealFiles, AlanineDipeptideInfersElementsFromNames) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "ala2_traj_top_mdtraj.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 22);
  EXPECT_EQ(count_hydrogens(system), 12);
  EXPECT_EQ(system.atomic_numbers[1], 6);  // " CH3" of ACE
  EXPECT_EQ(system.atom_names[0], "1HH3");
  EXPECT_EQ(system.bonds.size(), 21u);
  expect_consistent_protein_valences(system);
}

TEST(ReceptorRealFiles, FarnesyltransferaseWithZincAndFpp) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_1s63_ftase_proteinH.pdb");
  const auto start = std::chrono::steady_clock::now();
  const System system = load_system({path, {}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("load_seconds", std::to_string(seconds));
  std::printf("big_1s63 (11,685 atoms) loaded in %.3f s\n", seconds);
  EXPECT_EQ(system.atom_count(), 11685);
  EXPECT_EQ(count_hydrogens(system), 5749);
  EXPECT_EQ(count_kind(system, ResidueKind::kIon), 1);
  int zinc = -1, fpp = -1;
  for (int r = 0; r < system.residue_count(); ++r) {
    if (system.residues[r].name == "ZN") zinc = r;
    if (system.residues[r].name == "FPP") fpp = r;
  }
  ASSERT_GE(zinc, 0);
  ASSERT_GE(fpp, 0);
  EXPECT_EQ(system.formal_charges[system.residues[zinc].first_atom], 2);
  EXPECT_EQ(system.residues[fpp].kind, ResidueKind::kLigand);
  const std::vector<int> ligands = system.ligand_molecules();
  ASSERT_EQ(ligands.size(), 1u);
  EXPECT_EQ(system.molecules[ligands[0]].name, "FPP");
  // The zinc is coordinated, not covalently bonded.
  for (const Bond& bond : system.bonds) {
    EXPECT_NE(system.atom_residue[bond.a], zinc);
    EXPECT_NE(system.atom_residue[bond.b], zinc);
  }
  expect_consistent_protein_valences(system, /*skip_termini=*/true);
  EXPECT_EQ(system.chains.size(), 2u);
  // reduce left the N termini without H: they still get the pH-7 NH3+ charge.
  EXPECT_EQ(system.formal_charges[0], 1);
}

TEST(ReceptorRealFiles, SolvatedDhfrWithCharmmNames) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_dhfr_solvated_23558.pdb");
  const auto start = std::chrono::steady_clock::now();
  const System system = load_system({path, {}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("big_dhfr (23,558 atoms) loaded in %.3f s\n", seconds);
  EXPECT_EQ(system.atom_count(), 23558);
  EXPECT_EQ(count_hydrogens(system), 15267);
  EXPECT_EQ(count_kind(system, ResidueKind::kWater), 7023);
  EXPECT_EQ(count_kind(system, ResidueKind::kAminoAcid), 159);
  EXPECT_FALSE(system.box.has_value());
  EXPECT_EQ(system.residues.back().name, "TIP3");
  int waters = 0;
  for (const Molecule& m : system.molecules) waters += m.kind == MoleculeKind::kWater ? 1 : 0;
  EXPECT_EQ(waters, 7023);
  EXPECT_EQ(system.molecules.size(), 7024u);
  expect_consistent_protein_valences(system);
}

TEST(ReceptorRealFiles, NuclearReceptorChainsLigandsAndFileOrder) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "nr_lbd_6a22_rorg_ligand_xtal.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 8079 - 13);  // 13 atoms have altlocs A and B: B is dropped
  EXPECT_EQ(count_kind(system, ResidueKind::kWater), 91);
  EXPECT_EQ(system.ligand_molecules().size(), 4u);
  for (int i = 1; i < system.atom_count(); ++i) ASSERT_LT(system.origins[i - 1].line, system.origins[i].line);
  int polymers = 0;
  for (const Molecule& m : system.molecules) polymers += m.kind == MoleculeKind::kPolymer ? 1 : 0;
  EXPECT_EQ(polymers, 8);  // 4 LBD + 4 peptide chains
}

TEST(ReceptorRealFiles, AchbpDisulfidesAltlocsAndConect) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_3wip_achbp_heavy.pdb");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.atom_count(), 16688 + 229);  // blank altloc + first conformer (A)
  int disulfides = 0;
  for (const Bond& bond : system.bonds) {
    if (system.atomic_numbers[bond.a] == 16 && system.atomic_numbers[bond.b] == 16) ++disulfides;
  }
  // 19 SSBOND records, but in chains A and E the 187-188 bond exists only in conformer B.
  EXPECT_EQ(disulfides, 17);
  for (int i = 1; i < system.atom_count(); ++i) ASSERT_LT(system.origins[i - 1].line, system.origins[i].line);
}

}  // namespace
}  // namespace hemeplm
