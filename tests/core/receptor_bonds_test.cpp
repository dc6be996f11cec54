// Bonds, charges and molecules on small hand-made receptors: chain breaks, disulfides, histidine
// tautomers, ions, and HETATM groups as ligands or cofactors.
#include <gtest/gtest.h>

#include "hemeplm/core/features.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "receptor_test_support.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using test::pdb_atom_line;

// Backbone of one residue at x offset `x0` (N, CA, C, O): C of residue i is 1.33 Å from N of i+1 when
// residues are 3.8 Å apart.
std::string backbone(const char* residue, int seq, double x0, const char* chain = "A") {
  return pdb_atom_line("ATOM", seq * 10 + 1, " N  ", residue, chain, seq, x0, 0.0, 0.0, "N") +
         pdb_atom_line("ATOM", seq * 10 + 2, " CA ", residue, chain, seq, x0 + 1.46, 0.0, 0.0, "C") +
         pdb_atom_line("ATOM", seq * 10 + 3, " C  ", residue, chain, seq, x0 + 2.47, 0.0, 0.0, "C") +
         pdb_atom_line("ATOM", seq * 10 + 4, " O  ", residue, chain, seq, x0 + 2.47, 1.23, 0.0, "O");
}

TEST(ReceptorBonds, PeptideBondsAndChainBreak) {
  test::TempDir dir;
  // GLY 1 - GLY 2 bonded (C-N 1.33 Å), GLY 3 starts 5 Å further: a chain break.
  const std::string text = backbone("GLY", 1, 0.0) + backbone("GLY", 2, 3.8) + backbone("GLY", 3, 12.0);
  const System system = load_system({dir.write("gly3.pdb", text), {}});
  ASSERT_EQ(system.residue_count(), 3);
  EXPECT_TRUE(test::bonded(system, test::find_atom(system, 0, "C"), test::find_atom(system, 1, "N")));
  EXPECT_FALSE(test::bonded(system, test::find_atom(system, 1, "C"), test::find_atom(system, 2, "N")));
  EXPECT_EQ(system.molecules.size(), 2u);
  // pH-7 defaults without H: the first N is NH3+, the N after the break stays neutral.
  EXPECT_EQ(system.formal_charges[test::find_atom(system, 0, "N")], 1);
  EXPECT_EQ(system.formal_charges[test::find_atom(system, 2, "N")], 0);
  // C=O double bonds.
  for (const Bond& bond : system.bonds) {
    if (system.atomic_numbers[bond.b] == 8) {
      EXPECT_EQ(bond.order, 2);
    }
  }
}

TEST(ReceptorBonds, TerBetweenChainsPreventsPeptideBond) {
  test::TempDir dir;
  const std::string text = backbone("GLY", 1, 0.0, "A") + "TER\n" + backbone("GLY", 2, 3.8, "A");
  const System system = load_system({dir.write("ter.pdb", text), {}});
  EXPECT_EQ(system.chains.size(), 2u);
  EXPECT_FALSE(test::bonded(system, test::find_atom(system, 0, "C"), test::find_atom(system, 1, "N")));
}

TEST(ReceptorBonds, DisulfideJoinsChainsIntoOneMolecule) {
  test::TempDir dir;
  // Chain B sits 7.42 Å below chain A so that the two SG atoms are 2.05 Å apart.
  std::string text;
  const double dy = -7.42;
  for (const char* chain : {"A", "B"}) {
    const double y = std::string(chain) == "A" ? 0.0 : dy;
    const double s = std::string(chain) == "A" ? -1.0 : 1.0;
    const int seq = std::string(chain) == "A" ? 1 : 2;
    text += pdb_atom_line("ATOM", seq * 10 + 1, " N  ", "CYS", chain, seq, 0.0, y, 0.0, "N");
    text += pdb_atom_line("ATOM", seq * 10 + 2, " CA ", "CYS", chain, seq, 1.46, y, 0.0, "C");
    text += pdb_atom_line("ATOM", seq * 10 + 3, " C  ", "CYS", chain, seq, 2.47, y, 0.0, "C");
    text += pdb_atom_line("ATOM", seq * 10 + 4, " O  ", "CYS", chain, seq, 2.47, y - s * 1.23, 0.0, "O");
    text += pdb_atom_line("ATOM", seq * 10 + 5, " CB ", "CYS", chain, seq, 1.46, y + s * 1.53, 0.0, "C");
    text += pdb_atom_line("ATOM", seq * 10 + 6, " SG ", "CYS", chain, seq, 1.46, y + s * 2.685, 0.0, "S");
    text += "TER\n";
  }
  const System system = load_system({dir.write("ss.pdb", text), {}});
  const int sg_a = test::find_atom(system, 0, "SG");
  const int sg_b = test::find_atom(system, 1, "SG");
  EXPECT_NEAR(norm(system.positions[sg_a] - system.positions[sg_b]), 2.05, 0.01);
  EXPECT_TRUE(test::bonded(system, sg_a, sg_b));
  ASSERT_EQ(system.molecules.size(), 1u);
  EXPECT_EQ(system.molecules[0].kind, MoleculeKind::kPolymer);
  EXPECT_EQ(system.molecules[0].name, "A+B");
}

// An imidazole ring (HIS side chain) with optional ring hydrogens.
std::string histidine(const char* name, bool h_on_nd1, bool h_on_ne2) {
  std::string text = backbone(name, 1, 0.0);
  text += pdb_atom_line("ATOM", 5, " CB ", name, "A", 1, 1.46, -1.53, 0.0, "C");
  text += pdb_atom_line("ATOM", 6, " CG ", name, "A", 1, 1.46, -3.03, 0.0, "C");
  text += pdb_atom_line("ATOM", 7, " ND1", name, "A", 1, 2.57, -3.83, 0.0, "N");
  text += pdb_atom_line("ATOM", 8, " CD2", name, "A", 1, 0.25, -3.70, 0.0, "C");
  text += pdb_atom_line("ATOM", 9, " CE1", name, "A", 1, 2.13, -5.08, 0.0, "C");
  text += pdb_atom_line("ATOM", 10, " NE2", name, "A", 1, 0.80, -4.97, 0.0, "N");
  if (h_on_nd1) text += pdb_atom_line("ATOM", 11, " HD1", name, "A", 1, 3.55, -3.55, 0.0, "H");
  if (h_on_ne2) text += pdb_atom_line("ATOM", 12, " HE2", name, "A", 1, 0.25, -5.80, 0.0, "H");
  return text;
}

struct HisCase {
  const char* name;
  bool h_nd1, h_ne2;
  int nd1_charge;
  int ce1_partner_double;  // 0: ND1=CE1, 1: CE1=NE2
};

TEST(ReceptorBonds, HistidineKekuleFollowsRingHydrogens) {
  const HisCase cases[] = {
      {"HIS", false, true, 0, 0},  {"HIS", true, false, 0, 1},  {"HIS", true, true, 1, 0},  // from H
      {"HID", false, false, 0, 1}, {"HSD", false, false, 0, 1}, {"HIE", false, false, 0, 0},
      {"HIP", false, false, 1, 0},  // from names
  };
  test::TempDir dir;
  for (const HisCase& c : cases) {
    const System system = load_system({dir.write("his.pdb", histidine(c.name, c.h_nd1, c.h_ne2)), {}});
    const int nd1 = test::find_atom(system, 0, "ND1");
    const int ne2 = test::find_atom(system, 0, "NE2");
    const int ce1 = test::find_atom(system, 0, "CE1");
    int nd1_order = 0, ne2_order = 0;
    for (const Bond& bond : system.bonds) {
      if (bond.a == std::min(nd1, ce1) && bond.b == std::max(nd1, ce1)) nd1_order = bond.order;
      if (bond.a == std::min(ne2, ce1) && bond.b == std::max(ne2, ce1)) ne2_order = bond.order;
    }
    SCOPED_TRACE(std::string(c.name) + (c.h_nd1 ? " HD1" : "") + (c.h_ne2 ? " HE2" : ""));
    EXPECT_EQ(nd1_order, c.ce1_partner_double == 0 ? 2 : 1);
    EXPECT_EQ(ne2_order, c.ce1_partner_double == 1 ? 2 : 1);
    EXPECT_EQ(system.formal_charges[nd1], c.nd1_charge);
    EXPECT_EQ(system.formal_charges[ne2], 0);
  }
}

TEST(ReceptorBonds, HetatmGroupIsLigandWithoutLigandFilesAndIonIsCharged) {
  test::TempDir dir;
  const std::string text = backbone("GLY", 1, 0.0) +
                           pdb_atom_line("HETATM", 20, " C1 ", "EOH", "A", 101, 10.0, 0.0, 0.0, "C") +
                           pdb_atom_line("HETATM", 21, " C2 ", "EOH", "A", 101, 11.5, 0.0, 0.0, "C") +
                           pdb_atom_line("HETATM", 22, " O  ", "EOH", "A", 101, 12.1, 1.3, 0.0, "O") +
                           pdb_atom_line("HETATM", 23, "NA  ", "NA", "A", 102, 20.0, 0.0, 0.0, "") +
                           pdb_atom_line("HETATM", 24, "CL  ", "CL", "A", 103, 25.0, 0.0, 0.0, "") +
                           pdb_atom_line("HETATM", 25, " O  ", "HOH", "A", 104, 30.0, 0.0, 0.0, "O");
  const System system = load_system({dir.write("het.pdb", text), {}});
  ASSERT_EQ(system.residue_count(), 5);
  EXPECT_EQ(system.residues[1].kind, ResidueKind::kLigand);
  EXPECT_EQ(system.residues[2].kind, ResidueKind::kIon);
  EXPECT_EQ(system.atomic_numbers[system.residues[2].first_atom], 11);
  EXPECT_EQ(system.formal_charges[system.residues[2].first_atom], 1);
  EXPECT_EQ(system.formal_charges[system.residues[3].first_atom], -1);
  EXPECT_EQ(system.residues[4].kind, ResidueKind::kWater);
  // Ethanol bonded by covalent radii: C-C, C-O.
  EXPECT_TRUE(test::bonded(system, 4, 5));
  EXPECT_TRUE(test::bonded(system, 5, 6));
  std::vector<MoleculeKind> kinds;
  for (const Molecule& m : system.molecules) kinds.push_back(m.kind);
  EXPECT_EQ(kinds, (std::vector<MoleculeKind>{MoleculeKind::kPolymer, MoleculeKind::kLigand,
                                              MoleculeKind::kIon, MoleculeKind::kIon, MoleculeKind::kWater}));
  for (std::size_t k = 1; k < system.bonds.size(); ++k) {
    const Bond& p = system.bonds[k - 1];
    const Bond& q = system.bonds[k];
    EXPECT_TRUE(p.a < q.a || (p.a == q.a && p.b < q.b));
    EXPECT_LT(q.a, q.b);
  }
}

TEST(ReceptorBonds, HetatmGroupBecomesCofactorWhenLigandFilesAreGiven) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  const System system = load_system({receptor, {ligand}});
  EXPECT_EQ(system.atom_count(), 11685 + 29);
  int cofactors = 0;
  for (const Molecule& m : system.molecules) cofactors += m.kind == MoleculeKind::kCofactor ? 1 : 0;
  EXPECT_EQ(cofactors, 1);  // FPP
  ASSERT_EQ(system.ligand_molecules().size(), 1u);
  EXPECT_EQ(system.sources.size(), 2u);
  EXPECT_EQ(static_cast<int>(system.features.size()), system.atom_count() * kAtomFeatureCount);
}

}  // namespace
}  // namespace hemeplm
