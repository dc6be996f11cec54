// Bad receptor input: every problem is an InputError naming the file and the line/record.
#include <gtest/gtest.h>

#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "receptor_test_support.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using test::pdb_atom_line;

// Three atoms of a glycine; line 1 is CRYST1, the atoms are lines 2-4.
std::string good_pdb() {
  return "CRYST1   30.000   30.000   30.000  90.00  90.00  90.00 P 1           1\n" +
         pdb_atom_line("ATOM", 1, " N  ", "GLY", "A", 1, 1.0, 2.0, 3.0, "N") +
         pdb_atom_line("ATOM", 2, " CA ", "GLY", "A", 1, 2.4, 2.0, 3.0, "C") +
         pdb_atom_line("ATOM", 3, " C  ", "GLY", "A", 1, 3.0, 3.4, 3.0, "C") + "END\n";
}

// Replaces line `number` (1-based) of `text`.
std::string with_line(const std::string& text, int number, const std::string& replacement) {
  std::size_t start = 0;
  for (int i = 1; i < number; ++i) start = text.find('\n', start) + 1;
  const std::size_t end = text.find('\n', start);
  return text.substr(0, start) + replacement + text.substr(end);
}

std::string message_of(const std::string& path) {
  try {
    load_system({path, {}});
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not an InputError: ") + e.what();
  }
  return "no error";
}

void expect_error(const std::string& path, const std::string& expected_start) {
  const std::string message = message_of(path);
  EXPECT_EQ(message.rfind(expected_start, 0), 0u) << message;
}

TEST(StructureErrors, GoodFileLoads) {
  test::TempDir dir;
  const System system = load_system({dir.write("ok.pdb", good_pdb()), {}});
  EXPECT_EQ(system.atom_count(), 3);
  EXPECT_EQ(system.origins[0].line, 2);
  EXPECT_EQ(system.describe_atom(1), "atom 1 (CA GLY 1 chain A, line 3 of " + system.sources[0] + ")");
}

TEST(StructureErrors, TruncatedAtomLine) {
  test::TempDir dir;
  const std::string path =
      dir.write("x.pdb", with_line(good_pdb(), 3, "ATOM      2  CA  GLY A   1       2.400   2.0"));
  expect_error(path, path + ": line 3: ATOM/HETATM record is truncated");
}

TEST(StructureErrors, GarbledCoordinate) {
  test::TempDir dir;
  std::string line = pdb_atom_line("ATOM", 2, " CA ", "GLY", "A", 1, 2.4, 2.0, 3.0, "C");
  line.replace(30, 8, " 12.3ab ");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 3, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 3: x coordinate '12.3ab' is not a number");
}

TEST(StructureErrors, NanCoordinate) {
  test::TempDir dir;
  std::string line = pdb_atom_line("ATOM", 2, " CA ", "GLY", "A", 1, 2.4, 2.0, 3.0, "C");
  line.replace(38, 8, "     nan");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 3, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 3: y coordinate 'nan' is not finite");
}

TEST(StructureErrors, AbsurdCoordinate) {
  test::TempDir dir;
  std::string line = pdb_atom_line("ATOM", 2, " CA ", "GLY", "A", 1, 2.4, 2.0, 3.0, "C");
  line.replace(46, 8, "  1.0e+9");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 3, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 3: z coordinate '1.0e+9' is absurd");
}

TEST(StructureErrors, UnknownElement) {
  test::TempDir dir;
  const std::string line = pdb_atom_line("ATOM", 2, " CA ", "GLY", "A", 1, 2.4, 2.0, 3.0, "Xq");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 3, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 3: unknown element 'Xq' in columns 77-78");
}

TEST(StructureErrors, UninferableElement) {
  test::TempDir dir;
  const std::string line = pdb_atom_line("HETATM", 2, " 123", "LIG", "A", 2, 2.4, 2.0, 3.0, "");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 3, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 3: cannot tell the element of atom '123'");
}

TEST(StructureErrors, DuplicateAtomNamesBothLines) {
  test::TempDir dir;
  const std::string line = pdb_atom_line("ATOM", 3, " CA ", "GLY", "A", 1, 3.0, 3.4, 3.0, "C");
  const std::string path = dir.write("x.pdb", with_line(good_pdb(), 4, line.substr(0, line.size() - 1)));
  expect_error(path, path + ": line 4: duplicate atom CA of GLY 1 chain A (also at line 3)");
}

TEST(StructureErrors, BadCryst1) {
  test::TempDir dir;
  const std::string path = dir.write(
      "x.pdb",
      with_line(good_pdb(), 1, "CRYST1   30.000   abcdef   30.000  90.00  90.00  90.00 P 1           1"));
  expect_error(path, path + ": line 1: CRYST1 cell b 'abcdef' is not a valid length");
}

TEST(StructureErrors, EmptyMissingNoAtomsAndUnknownExtension) {
  test::TempDir dir;
  const std::string empty = dir.write("empty.pdb", "");
  expect_error(empty, empty + ": file is empty");
  const std::string missing = (dir.path() / "missing.pdb").string();
  expect_error(missing, missing + ": file not found");
  const std::string header_only = dir.write("header.pdb", "HEADER    NOTHING\nEND\n");
  expect_error(header_only, header_only + ": no ATOM/HETATM records");
  const std::string gro = dir.write("x.gro", "1\n\nC 0 0 0\n");
  expect_error(gro, gro + ": unknown structure format");
  // Extended XYZ is a structure format (first frame); its errors name the line.
  const std::string xyz = dir.write("x.xyz", "1\n\nC 0 abc 0\n");
  expect_error(xyz, xyz + ": line 3 (frame 0): position y 'abc' is not a number");
  const std::string no_cif_atoms = dir.write("x.cif", "data_x\n_cell.length_a 10\n");
  expect_error(no_cif_atoms, no_cif_atoms + ": no _atom_site records");
}

TEST(StructureErrors, AlternateLocationsKeepFirstConformer) {
  test::TempDir dir;
  const std::string text = pdb_atom_line("ATOM", 1, " N  ", "SER", "A", 1, 1.0, 2.0, 3.0, "N") +
                           pdb_atom_line("ATOM", 2, " CA ", "SER", "A", 1, 2.4, 2.0, 3.0, "C") +
                           pdb_atom_line("ATOM", 3, " CB ", "SER", "A", 1, 3.0, 3.4, 3.0, "C", 'A') +
                           pdb_atom_line("ATOM", 4, " CB ", "SER", "A", 1, 3.1, 3.3, 3.0, "C", 'B') +
                           pdb_atom_line("ATOM", 5, " OG ", "SER", "A", 1, 4.0, 4.0, 3.0, "O", 'A') +
                           pdb_atom_line("ATOM", 6, " OG ", "SER", "A", 1, 4.1, 4.1, 3.0, "O", 'B');
  const System system = load_system({dir.write("alt.pdb", text), {}});
  ASSERT_EQ(system.atom_count(), 4);
  EXPECT_EQ(system.origins[2].line, 3);
  EXPECT_EQ(system.origins[3].line, 5);
  EXPECT_DOUBLE_EQ(system.positions[3].x, 4.0);
}

}  // namespace
}  // namespace hemeplm
