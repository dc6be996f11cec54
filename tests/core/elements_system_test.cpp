// Periodic-table data, element inference from PDB names, and the System's small methods.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm {
namespace {

TEST(Elements, SymbolsRoundTripForAll118) {
  for (int z = 1; z <= 118; ++z) {
    const std::string symbol(element_symbol(z));
    EXPECT_EQ(atomic_number(symbol), z) << symbol;
    EXPECT_GT(atomic_mass(z), 0.0) << symbol;
    EXPECT_GT(covalent_radius(z), 0.0) << symbol;
  }
  for (int z = 2; z <= 118; ++z) EXPECT_GT(atomic_mass(z), atomic_mass(1));
  EXPECT_EQ(element_symbol(0), "X");
  EXPECT_EQ(element_symbol(119), "X");
  EXPECT_EQ(atomic_number("cl"), 17);
  EXPECT_EQ(atomic_number("ZN"), 30);
  EXPECT_EQ(atomic_number("Xx"), 0);
  EXPECT_EQ(atomic_number(""), 0);
  EXPECT_EQ(atomic_mass(0), 0.0);
  EXPECT_NEAR(atomic_mass(6), 12.011, 1e-3);
}

TEST(Elements, CorderoRadii) {
  EXPECT_DOUBLE_EQ(covalent_radius(1), 0.31);
  EXPECT_DOUBLE_EQ(covalent_radius(6), 0.76);
  EXPECT_DOUBLE_EQ(covalent_radius(7), 0.71);
  EXPECT_DOUBLE_EQ(covalent_radius(8), 0.66);
  EXPECT_DOUBLE_EQ(covalent_radius(16), 1.05);
  EXPECT_DOUBLE_EQ(covalent_radius(110), 1.5);  // no published value
  EXPECT_TRUE(is_common_ion_element(30));
  EXPECT_TRUE(is_common_ion_element(17));
  EXPECT_FALSE(is_common_ion_element(6));
}

TEST(Elements, InfersElementsFromPdbNameColumns) {
  EXPECT_EQ(infer_element_from_atom_name(" CA ", true), 6);
  EXPECT_EQ(infer_element_from_atom_name(" CA ", false), 6);
  EXPECT_EQ(infer_element_from_atom_name("CA  ", false), 20);  // calcium: element in columns 13-14
  EXPECT_EQ(infer_element_from_atom_name("CA  ", true), 6);    // polymers have no two-letter elements
  EXPECT_EQ(infer_element_from_atom_name("1HB2", true), 1);
  EXPECT_EQ(infer_element_from_atom_name("2HH3", false), 1);
  EXPECT_EQ(infer_element_from_atom_name("HG21", true), 1);
  EXPECT_EQ(infer_element_from_atom_name("HG21", false), 1);
  EXPECT_EQ(infer_element_from_atom_name("HG  ", false), 80);
  EXPECT_EQ(infer_element_from_atom_name("ZN  ", false), 30);
  EXPECT_EQ(infer_element_from_atom_name(" OH2", true), 8);
  EXPECT_EQ(infer_element_from_atom_name(" HT1", true), 1);
  EXPECT_EQ(infer_element_from_atom_name("CL1 ", false), 17);
  EXPECT_EQ(infer_element_from_atom_name("C12 ", false), 6);
  EXPECT_EQ(infer_element_from_atom_name(" 12 ", false), 0);
  // Trimmed names.
  EXPECT_EQ(infer_element_from_atom_name("CA", true), 6);
  EXPECT_EQ(infer_element_from_atom_name("ZN", false), 30);
  EXPECT_EQ(infer_element_from_atom_name("CL1", false), 17);
  EXPECT_EQ(infer_element_from_atom_name("C12", false), 6);
  EXPECT_EQ(infer_element_from_atom_name("1HH3", true), 1);
  EXPECT_EQ(infer_element_from_atom_name("", false), 0);
}

TEST(System, KindNames) {
  EXPECT_STREQ(to_string(ResidueKind::kAminoAcid), "amino-acid");
  EXPECT_STREQ(to_string(ResidueKind::kCofactor), "cofactor");
  EXPECT_STREQ(to_string(MoleculeKind::kPolymer), "polymer");
  EXPECT_STREQ(to_string(MoleculeKind::kWater), "water");
}

TEST(System, BoxGeometry) {
  Box cube;
  cube.vectors = {Vec3{10, 0, 0}, Vec3{0, 20, 0}, Vec3{0, 0, 30}};
  EXPECT_TRUE(cube.is_orthorhombic());
  EXPECT_DOUBLE_EQ(cube.volume(), 6000.0);
  Box triclinic;
  triclinic.vectors = {Vec3{10, 0, 0}, Vec3{5, 8.66, 0}, Vec3{0, 0, 10}};
  EXPECT_FALSE(triclinic.is_orthorhombic());
  EXPECT_NEAR(triclinic.volume(), 866.0, 1e-9);
}

System three_atom_system() {
  System system;
  system.positions = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}};
  system.atomic_numbers = {6, 1, 8};
  system.atom_names = {"C1", "H1", "O1"};
  system.atom_residue = {0, 0, 0};
  system.origins = {{0, 7}, {0, 8}, {0, 9}};
  system.sources = {"x.pdb"};
  system.residues.push_back({"LIG", 5, ' ', 0, 0, 3, ResidueKind::kLigand, 0});
  system.chains.push_back({"A", 0, 1});
  system.bonds = {{0, 1, 1}, {0, 2, 2}};
  Molecule ligand;
  ligand.kind = MoleculeKind::kLigand;
  ligand.residues = {0};
  ligand.atom_count = 3;
  system.molecules = {ligand};
  return system;
}

TEST(System, DescribesAtomsAndNeighbours) {
  const System system = three_atom_system();
  EXPECT_TRUE(system.has_hydrogens());
  EXPECT_EQ(system.describe_atom(2), "atom 2 (O1 LIG 5 chain A, line 9 of x.pdb)");
  EXPECT_EQ(system.describe_atom(7), "atom 7");
  EXPECT_EQ(system.ligand_molecules(), std::vector<int>{0});
  std::vector<int> offsets, neighbors;
  system.bonded_neighbors(offsets, neighbors);
  EXPECT_EQ(offsets, (std::vector<int>{0, 2, 3, 4}));
  EXPECT_EQ(neighbors, (std::vector<int>{1, 2, 0, 0}));
}

}  // namespace
}  // namespace hemeplm
