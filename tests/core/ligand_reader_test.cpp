#include "ligand_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "ligand_test_molecules.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using test::TempDir;

int count_z(const LigandRecord& r, int z) {
  return static_cast<int>(std::count(r.atomic_numbers.begin(), r.atomic_numbers.end(), z));
}
int total_charge(const LigandRecord& r) {
  return std::accumulate(r.formal_charges.begin(), r.formal_charges.end(), 0);
}

/// Lines of a text, 0-based.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// Reads `path` expecting an InputError; returns what(), and checks that RDKit printed nothing.
std::string read_error(const std::string& path) {
  testing::internal::CaptureStderr();
  std::string message;
  try {
    read_ligand_file(path);
  } catch (const InputError& e) {
    message = e.what();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "RDKit wrote to stderr";
  EXPECT_NE(message, "") << path << " was read without error";
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

TEST(LigandReader, ImatinibWithChargeLine) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_1iep_imatinib_ligand.sdf");
  const auto recs = read_ligand_file(path);
  ASSERT_EQ(recs.size(), 1u);
  const LigandRecord& r = recs[0];
  EXPECT_EQ(r.title, "STI");
  EXPECT_EQ(r.first_line, 1);
  EXPECT_EQ(r.atomic_numbers.size(), 69u);
  EXPECT_EQ(count_z(r, 6), 29);
  EXPECT_EQ(count_z(r, 1), 32);
  EXPECT_EQ(count_z(r, 7), 7);
  EXPECT_EQ(total_charge(r), 1);
  EXPECT_EQ(r.formal_charges[31], 1);  // "M  CHG  1  32   1"
  EXPECT_EQ(r.bonds.size(), 73u);
  EXPECT_EQ(r.atom_lines.front(), 5);
  EXPECT_EQ(r.atom_lines.back(), 73);
  EXPECT_EQ(r.atom_names[0], "C1");
  for (const Bond& b : r.bonds) {
    EXPECT_LT(b.a, b.b);
    EXPECT_TRUE(b.order >= 1 && b.order <= 3) << "bonds are stored kekulised";
  }
}

TEST(LigandReader, ThrombinInhibitorChargesInAtomBlock) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_1a46_ligand.sdf");
  const auto recs = read_ligand_file(path);
  ASSERT_EQ(recs.size(), 1u);
  const LigandRecord& r = recs[0];
  EXPECT_EQ(r.atomic_numbers.size(), 85u);
  EXPECT_EQ(count_z(r, 1), 47);
  EXPECT_EQ(std::count(r.formal_charges.begin(), r.formal_charges.end(), 1), 3);
  EXPECT_EQ(total_charge(r), 3);
  EXPECT_EQ(r.formal_charges[7], 1);
  EXPECT_EQ(r.formal_charges[12], 1);
  EXPECT_EQ(r.formal_charges[28], 1);
}

TEST(LigandReader, HeavyAtomLigandWithoutHydrogens) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_184l_isobutylbenzene_ligand.sdf");
  const auto recs = read_ligand_file(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].title, "184L_I4B_A_401");
  EXPECT_EQ(recs[0].atomic_numbers.size(), 10u);
  EXPECT_EQ(count_z(recs[0], 1), 0);
  EXPECT_EQ(recs[0].bonds.size(), 10u);
}

TEST(LigandReader, CountsLineWithoutV2000Tag) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_1s63_ligand.sdf");
  const auto recs = read_ligand_file(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].title, "778");
  EXPECT_EQ(recs[0].atomic_numbers.size(), 29u);
  EXPECT_EQ(recs[0].bonds.size(), 32u);
  EXPECT_EQ(count_z(recs[0], 17), 1);
  EXPECT_EQ(count_z(recs[0], 1), 0);
}

TEST(LigandReader, TenConformers) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "ruxolitinib_10conformers.sdf");
  const auto recs = read_ligand_file(path);
  ASSERT_EQ(recs.size(), 10u);
  for (const auto& r : recs) {
    EXPECT_EQ(r.title, "ruxolitinib");
    EXPECT_EQ(r.atomic_numbers, recs[0].atomic_numbers);
    EXPECT_EQ(r.bonds.size(), 44u);
  }
  EXPECT_FALSE(recs[0].positions == recs[1].positions);
  // Records follow each other: the second starts after the first one's "$$$$".
  const auto lines = lines_of(test::read_text(path));
  EXPECT_EQ(lines[recs[1].first_line - 2], "$$$$");
  EXPECT_EQ(lines[recs[9].atom_lines[0] - 1].substr(31, 1), "C");
  EXPECT_EQ(recs[9].atom_lines[0], recs[9].first_line + 4);
}

// MiniDrugBank: 19 of the 371 records have four-bonded N (or three-bonded O) without a charge (e.g.
// nitro groups written as N(=O)O). We are strict: the file is rejected, naming the record and the atom
// line; the other 352 records read.
TEST(LigandReader, MiniDrugBankRejectsUnchargedNitroNamingTheAtomLine) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "minidrugbank_371.sdf");
  const std::string message = read_error(path);
  EXPECT_NE(message.find("DrugBank_2799"), std::string::npos) << message;
  EXPECT_NE(message.find("valence"), std::string::npos) << message;
  const auto lines = lines_of(test::read_text(path));
  const auto title = std::find(lines.begin(), lines.end(), "DrugBank_2799");
  ASSERT_NE(title, lines.end());
  const long atom22 = (title - lines.begin()) + 1 + 4 + 21;  // 1-based line of atom 22 (the N)
  EXPECT_NE(message.find(line_record(atom22) + ":"), std::string::npos) << message;
}

TEST(LigandReader, MiniDrugBankRecordByRecord) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "minidrugbank_371.sdf");
  const auto lines = lines_of(test::read_text(path));
  std::vector<std::string> good;
  std::vector<std::string> current;
  int bad = 0, total = 0;
  const TempDir dir;
  for (const auto& line : lines) {
    current.push_back(line);
    if (line != "$$$$") continue;
    ++total;
    const std::string one = dir.write("one.sdf", join(current));
    try {
      const auto recs = read_ligand_file(one);
      EXPECT_EQ(recs.size(), 1u);
      good.push_back(join(current));
    } catch (const InputError& e) {
      ++bad;
      EXPECT_NE(std::string(e.what()).find("valence"), std::string::npos) << e.what();
    }
    current.clear();
  }
  EXPECT_EQ(total, 371);
  EXPECT_EQ(bad, 19);
  const std::string all = dir.write("good.sdf", std::accumulate(good.begin(), good.end(), std::string()));
  const auto t0 = std::chrono::steady_clock::now();
  const auto recs = read_ligand_file(all);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(recs.size(), 352u);
  EXPECT_LT(seconds, 5.0);
  std::cout << "[ info ] 352 MiniDrugBank records read in " << seconds << " s\n";
}

void expect_same_molecule(const LigandRecord& a, const LigandRecord& b, double position_tolerance) {
  EXPECT_EQ(a.atomic_numbers, b.atomic_numbers);
  EXPECT_EQ(a.formal_charges, b.formal_charges);
  ASSERT_EQ(a.positions.size(), b.positions.size());
  for (std::size_t i = 0; i < a.positions.size(); ++i) {
    EXPECT_NEAR(a.positions[i].x, b.positions[i].x, position_tolerance);
    EXPECT_NEAR(a.positions[i].y, b.positions[i].y, position_tolerance);
    EXPECT_NEAR(a.positions[i].z, b.positions[i].z, position_tolerance);
  }
  ASSERT_EQ(a.bonds.size(), b.bonds.size());
  for (std::size_t i = 0; i < a.bonds.size(); ++i) {
    EXPECT_EQ(a.bonds[i].a, b.bonds[i].a);
    EXPECT_EQ(a.bonds[i].b, b.bonds[i].b);
    EXPECT_EQ(a.bonds[i].order, b.bonds[i].order) << "bond " << i;
  }
}

TEST(LigandReader, Mol2SameAsSdf) {
  const TempDir dir;
  const auto sdf = read_ligand_file(dir.write("phe.sdf", test::kPheSdf));
  const auto mol2 = read_ligand_file(dir.write("phe.mol2", test::kPheMol2));
  ASSERT_EQ(sdf.size(), 1u);
  ASSERT_EQ(mol2.size(), 1u);
  expect_same_molecule(sdf[0], mol2[0], 1e-9);
  EXPECT_EQ(mol2[0].title, "PHE zwitterion");
  EXPECT_EQ(mol2[0].atom_names[0], "N1");
  EXPECT_EQ(mol2[0].atom_lines[0], 8);
  EXPECT_EQ(total_charge(mol2[0]), 0);
  EXPECT_EQ(mol2[0].formal_charges[0], 1);  // N.4
}

TEST(LigandReader, Mol2SeveralMolecules) {
  const TempDir dir;
  const std::string two = std::string(test::kPheMol2) + "\n" + test::kPheMol2;
  const auto recs = read_ligand_file(dir.write("two.mol2", two));
  ASSERT_EQ(recs.size(), 2u);
  expect_same_molecule(recs[0], recs[1], 0.0);
  EXPECT_EQ(recs[1].first_line, static_cast<int>(lines_of(test::kPheMol2).size()) + 2);
}

TEST(LigandReader, V3000SameAsV2000) {
  const TempDir dir;
  const auto v2 = read_ligand_file(dir.write("phe.sdf", test::kPheSdf));
  const auto v3 = read_ligand_file(dir.write("phe3.sdf", std::string(test::kPheV3000) + test::kPheV3000));
  ASSERT_EQ(v3.size(), 2u);
  expect_same_molecule(v2[0], v3[0], 1e-4);
  EXPECT_EQ(v3[0].atom_lines[0], 8);
  EXPECT_EQ(v3[0].formal_charges[0], 1);
}

TEST(LigandReader, AppendLigandsBuildsChainResiduesMoleculesAndBonds) {
  const TempDir dir;
  auto recs = read_ligand_file(dir.write("phe.sdf", std::string(test::kPheSdf) + test::kPheSdf));
  recs[1].title = "";
  System s;
  s.sources = {"phe.sdf"};
  append_ligands(s, recs, 0, "L");
  append_ligands(s, {recs[0]}, 0, "M");
  EXPECT_EQ(s.atom_count(), 69);
  ASSERT_EQ(s.chains.size(), 2u);
  EXPECT_EQ(s.chains[0].name, "L");
  EXPECT_EQ(s.chains[0].residue_count, 2);
  EXPECT_EQ(s.chains[1].first_residue, 2);
  ASSERT_EQ(s.residues.size(), 3u);
  EXPECT_EQ(s.residues[0].name, "PHE");
  EXPECT_EQ(s.residues[1].name, "LIG");
  EXPECT_EQ(s.residues[2].first_atom, 46);
  EXPECT_EQ(s.residues[2].atom_count, 23);
  EXPECT_EQ(s.residues[2].molecule, 2);
  ASSERT_EQ(s.molecules.size(), 3u);
  EXPECT_EQ(s.molecules[0].kind, MoleculeKind::kLigand);
  EXPECT_EQ(s.molecules[0].name, "PHE zwitterion");
  EXPECT_EQ(s.bonds.size(), 69u);
  EXPECT_TRUE(std::is_sorted(s.bonds.begin(), s.bonds.end(), [](const Bond& x, const Bond& y) {
    return x.a != y.a ? x.a < y.a : x.b < y.b;
  }));
  EXPECT_EQ(s.bonds.back().a >= 46, true);
  EXPECT_EQ(s.origins[0].line, 5);
  EXPECT_EQ(s.origins[23].line, 58);
  EXPECT_EQ(s.atom_residue[68], 2);
  EXPECT_EQ(s.formal_charges[46], 1);
  EXPECT_EQ(s.atom_names.size(), 69u);
}

// --- bad input -----------------------------------------------------------------------------------

TEST(LigandReader, MissingEmptyUnknownExtensionNoMolecules) {
  const TempDir dir;
  EXPECT_NE(read_error((dir.path() / "absent.sdf").string()).find("cannot open"), std::string::npos);
  EXPECT_NE(read_error(dir.write("empty.sdf", "  \n\n")).find("empty"), std::string::npos);
  EXPECT_NE(read_error(dir.write("x.pdbqt", test::kPheSdf)).find("extension"), std::string::npos);
  EXPECT_NE(read_error(dir.write("none.sdf", "\n$$$$\n\n$$$$\n")).find("no molecules"), std::string::npos);
  EXPECT_NE(read_error(dir.write("none.mol2", "# nothing\n")).find("no molecules"), std::string::npos);
}

TEST(LigandReader, TruncatedRecord) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_1iep_imatinib_ligand.sdf");
  const TempDir dir;
  const auto lines = lines_of(test::read_text(path));
  const std::string cut = dir.write("cut.sdf", join({lines.begin(), lines.begin() + 16}));  // 12 atoms
  const std::string m = read_error(cut);
  EXPECT_NE(m.find("line 16: record is truncated: the counts line says 69 atoms and 73 bonds, but it ends "
                   "after 12 atom lines"),
            std::string::npos)
      << m;
  auto v3 = lines_of(test::kPheV3000);
  v3.resize(12);
  EXPECT_NE(read_error(dir.write("cut3.sdf", join(v3))).find("truncated"), std::string::npos);
  auto m2 = lines_of(test::kPheMol2);
  m2.resize(20);
  EXPECT_NE(read_error(dir.write("cut.mol2", join(m2))).find("line 20: record is truncated"),
            std::string::npos);
}

std::string with_line(const std::string& text, int line, const std::string& replacement) {
  auto lines = lines_of(text);
  lines[line - 1] = replacement;
  return join(lines);
}

TEST(LigandReader, GarbledCoordinateNamesTheLine) {
  const TempDir dir;
  const std::string m =
      read_error(dir.write("g.sdf", with_line(test::kPheSdf, 7, "    abc.de   -0.5884   -0.8778 C   0  0")));
  EXPECT_NE(m.find("g.sdf: line 7: coordinate 'abc.de' is not a number (molecule 'PHE zwitterion')"),
            std::string::npos)
      << m;
  const std::string m2 = read_error(dir.write(
      "g.mol2",
      with_line(test::kPheMol2, 9, "      2 C1        -1.6274     0.7x90    -0.6081 C.3      1 PHE1")));
  EXPECT_NE(m2.find("line 9: coordinate '0.7x90' is not a number"), std::string::npos) << m2;
  const std::string m3 = read_error(
      dir.write("g3.sdf", with_line(test::kPheV3000, 8, "M  V30 2 C -1.627429 oops -0.608140 0 CFG=1")));
  EXPECT_NE(m3.find("line 8: coordinate 'oops'"), std::string::npos) << m3;
}

TEST(LigandReader, NonFiniteAndAbsurdCoordinates) {
  const TempDir dir;
  const std::string m =
      read_error(dir.write("n.sdf", with_line(test::kPheSdf, 6, "       nan    0.7190   -0.6081 C   0  0")));
  EXPECT_NE(m.find("line 6: coordinate 'nan' is not finite"), std::string::npos) << m;
  const std::string m2 = read_error(
      dir.write("i.sdf", with_line(test::kPheV3000, 8, "M  V30 2 C -1.627429 inf -0.608140 0 CFG=1")));
  EXPECT_NE(m2.find("line 8: coordinate 'inf' is not finite"), std::string::npos) << m2;
  const std::string m3 = read_error(
      dir.write("big.sdf", with_line(test::kPheV3000, 8, "M  V30 2 C -1.627429 250000.0 -0.608140 0 CFG=1")));
  EXPECT_NE(m3.find("line 8: coordinate 250000.0 is beyond 1e5"), std::string::npos) << m3;
}

TEST(LigandReader, UnknownElement) {
  const TempDir dir;
  const std::string m =
      read_error(dir.write("x.sdf", with_line(test::kPheSdf, 7, "   -0.8867   -0.5884   -0.8778 Xx  0  0")));
  EXPECT_NE(m.find("line 7: unknown element symbol 'Xx'"), std::string::npos) << m;
  const std::string q =
      read_error(dir.write("q.sdf", with_line(test::kPheSdf, 8, "    0.5336   -0.5735   -0.3560 Q   0  0")));
  EXPECT_NE(q.find("line 8: unknown element symbol 'Q'"), std::string::npos) << q;
}

TEST(LigandReader, FlatOr2DMolecules) {
  const TempDir dir;
  auto flat = lines_of(test::kPheSdf);
  for (int i = 4; i < 4 + 23; ++i) flat[i].replace(20, 10, "    0.0000");
  const std::string m = read_error(dir.write("flat.sdf", join(flat)));
  EXPECT_NE(m.find("line 1: all z coordinates are 0"), std::string::npos) << m;
  const std::string m2 =
      read_error(dir.write("2d.sdf", with_line(test::kPheSdf, 2, "     RDKit          2D")));
  EXPECT_NE(m2.find("line 2: the header says the coordinates are 2D"), std::string::npos) << m2;
}

TEST(LigandReader, PentavalentCarbonNamesItsLine) {
  const TempDir dir;
  const std::string ch5 = R"(CH5
     hand           3D

  6  5  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 C   0  0
    1.0900    0.0000    0.0000 H   0  0
   -1.0900    0.0000    0.0000 H   0  0
    0.0000    1.0900    0.0000 H   0  0
    0.0000   -1.0900    0.0000 H   0  0
    0.0000    0.0000    1.0900 H   0  0
  1  2  1  0
  1  3  1  0
  1  4  1  0
  1  5  1  0
  1  6  1  0
M  END
$$$$
)";
  const std::string m = read_error(dir.write("ch5.sdf", std::string(test::kPheSdf) + ch5));
  EXPECT_NE(m.find("ch5.sdf: line 58: chemically invalid (atom 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("CH5"), std::string::npos) << m;
}

TEST(LigandReader, RdkitLineNumbersAreFileLines) {
  const TempDir dir;
  // RDKit counts lines from the start of the record it was given; we report file lines.
  const std::string chg = with_line(test::kPheSdf, 51, "M  CHG  2   1   1  1x  -1");
  const std::string c = read_error(dir.write("c.sdf", std::string(test::kPheSdf) + chg));
  EXPECT_NE(
      c.find(
          "c.sdf: line 104: cannot parse record: Cannot convert '  1x' to int (molecule 'PHE zwitterion')"),
      std::string::npos)
      << c;
}

TEST(LigandReader, BadBondLine) {
  const TempDir dir;
  const std::string bad = with_line(test::kPheSdf, 28, "  1 99  1  0");
  const std::string m = read_error(dir.write("b.sdf", std::string(test::kPheSdf) + bad));
  EXPECT_NE(m.find("b.sdf: line 81: bond refers to atom 99, outside 1..23"), std::string::npos) << m;
}

}  // namespace
}  // namespace hemeplm
