// Bad input never crashes the program: one line on stderr naming the file, the line or record and the
// problem; exit status 2; no output file written.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <sstream>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

const std::string kComplex = source_file("inputs/example/complex.pdb");
const std::string kLigand = source_file("inputs/example/ligand.sdf");

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

/// Runs `hemeplm fragment STRUCTURE [--ligand LIGAND] --out plan.json` plus `extra`, and checks the
/// error contract. `expect` are substrings the one-line message must contain.
void expect_clean_failure(const std::string& structure, const std::string& ligand,
                          const std::vector<std::string>& extra, const std::vector<std::string>& expect) {
  TempDir out;
  const std::string plan = (out.path() / "plan.json").string();
  std::vector<std::string> argv{hemeplm_binary(), "fragment", structure};
  if (!ligand.empty()) argv.insert(argv.end(), {"--ligand", ligand});
  argv.insert(argv.end(), {"--ranks", "1", "--domains", "2", "--out", plan});
  argv.insert(argv.end(), extra.begin(), extra.end());
  const CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr must be one line:\n" << r.err;
  for (const auto& e : expect)
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << e << "' not in: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(std::filesystem::exists(plan)) << "an output file was written";
}

class BadPdb : public ::testing::Test {
 protected:
  /// The example PDB with line `line` (1-based) replaced by edit(line text).
  std::string edited(const std::string& name, int line, const std::function<std::string(std::string)>& edit) {
    auto lines = split_lines(read_text(kComplex));
    lines.at(line - 1) = edit(lines.at(line - 1));
    return dir_.write(name, join_lines(lines));
  }
  TempDir dir_;
};

TEST_F(BadPdb, TruncatedAtomLine) {
  const auto f = edited("truncated.pdb", 7, [](std::string l) { return l.substr(0, 38); });
  expect_clean_failure(f, "", {}, {"truncated.pdb", "line 7"});
}

TEST_F(BadPdb, GarbledCoordinate) {
  const auto f = edited("garbled.pdb", 9, [](std::string l) { return l.replace(30, 8, "  12.3ab"); });
  expect_clean_failure(f, "", {}, {"garbled.pdb", "line 9", "12.3ab"});
}

TEST_F(BadPdb, NanCoordinate) {
  const auto f = edited("nan.pdb", 11, [](std::string l) { return l.replace(38, 8, "     nan"); });
  expect_clean_failure(f, "", {}, {"nan.pdb", "line 11"});
}

TEST_F(BadPdb, AbsurdCoordinate) {
  const auto f = edited("absurd.pdb", 12, [](std::string l) { return l.replace(46, 8, "99999999"); });
  expect_clean_failure(f, "", {}, {"absurd.pdb", "line 12"});
}

TEST_F(BadPdb, UnknownElement) {
  const auto f = edited("element.pdb", 13, [](std::string l) { return l.replace(76, 2, "Xq"); });
  expect_clean_failure(f, "", {}, {"element.pdb", "line 13", "Xq"});
}

TEST_F(BadPdb, DuplicateAtom) {
  auto lines = split_lines(read_text(kComplex));
  lines.insert(lines.begin() + 5, lines[4]);  // line 5 again as line 6
  const auto f = dir_.write("duplicate.pdb", join_lines(lines));
  expect_clean_failure(f, "", {}, {"duplicate.pdb", "line 6"});
}

TEST_F(BadPdb, OverlappingAtoms) {
  // A distinct atom name at exactly the position of another atom.
  auto lines = split_lines(read_text(kComplex));
  std::string copy = lines[4];
  copy.replace(12, 4, " CX ");
  lines.insert(lines.begin() + 5, copy);
  const auto f = dir_.write("overlap.pdb", join_lines(lines));
  expect_clean_failure(f, "", {}, {"overlap.pdb", "overlapping"});
}

TEST_F(BadPdb, EmptyFile) {
  expect_clean_failure(dir_.write("empty.pdb", ""), "", {}, {"empty.pdb"});
}

TEST_F(BadPdb, OnlyRemarks) {
  expect_clean_failure(dir_.write("noatoms.pdb", "REMARK nothing here\nEND\n"), "", {}, {"noatoms.pdb"});
}

TEST_F(BadPdb, MissingFile) {
  expect_clean_failure((dir_.path() / "absent.pdb").string(), "", {}, {"absent.pdb"});
}

TEST_F(BadPdb, UnknownExtension) {
  expect_clean_failure(dir_.write("structure.txt", read_text(kComplex)), "", {}, {"structure.txt"});
}

TEST_F(BadPdb, GarbledMmcif) {
  const std::string cif =
      "data_test\nloop_\n_atom_site.group_PDB\n_atom_site.id\n_atom_site.type_symbol\n_atom_site.label_atom_"
      "id\n"
      "_atom_site.label_comp_id\n_atom_site.label_asym_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n"
      "_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.auth_seq_id\n_atom_site.auth_asym_id\n"
      "ATOM 1 N N GLY A 1 1.000 2.000 3.000 1 A\n"
      "ATOM 2 C CA GLY A 1 2.400 2.000 3.000 1 A\n"
      "ATOM 3 C C GLY A 1 abc 2.000 3.000 1 A\n";
  expect_clean_failure(dir_.write("garbled.cif", cif), "", {}, {"garbled.cif"});
}

class BadSdf : public ::testing::Test {
 protected:
  std::vector<std::string> lines_ = split_lines(read_text(kLigand));
  TempDir dir_;
};

TEST_F(BadSdf, TruncatedRecord) {
  lines_.resize(20);  // counts line says 33 atoms; the file ends after 16
  expect_clean_failure(kComplex, dir_.write("truncated.sdf", join_lines(lines_)), {}, {"truncated.sdf"});
}

TEST_F(BadSdf, GarbledAtomLine) {
  lines_[6].replace(0, 10, "    4.9x12");
  expect_clean_failure(kComplex, dir_.write("garbled.sdf", join_lines(lines_)), {},
                       {"garbled.sdf", "line 7"});
}

TEST_F(BadSdf, WithoutThreeDimensionalCoordinates) {
  for (int i = 4; i < 4 + 33; ++i) lines_[i].replace(20, 10, "    0.0000");
  expect_clean_failure(kComplex, dir_.write("flat.sdf", join_lines(lines_)), {}, {"flat.sdf", "3D"});
}

TEST_F(BadSdf, UnknownElement) {
  lines_[5].replace(31, 2, "Qq");
  expect_clean_failure(kComplex, dir_.write("element.sdf", join_lines(lines_)), {}, {"element.sdf"});
}

TEST_F(BadSdf, EmptyFile) {
  expect_clean_failure(kComplex, dir_.write("empty.sdf", ""), {}, {"empty.sdf"});
}

TEST_F(BadSdf, MissingFile) {
  expect_clean_failure(kComplex, (dir_.path() / "absent.sdf").string(), {}, {"absent.sdf"});
}

TEST(BadOptions, OutOfRangeValues) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--core-residues", "0"}, "--core-residues"},
      {{"--buffer", "-1"}, "--buffer"},
      {{"--blend", "9"}, "--blend"},  // wider than the 8 Å buffer
      {{"--ranks", "0"}, "--ranks"},
      {{"--ranks", "100000"}, "ranks but only"},
      {{"--domains", "0"}, "--domains"},
      {{"--domains", "5000"}, "domains"},
      {{"--scheme", "voronoi"}, "--scheme"},
      {{"--core-residues", "many"}, "core-residues"},
  };
  for (const auto& [args, expect] : cases) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    TempDir out;
    const std::string plan = (out.path() / "plan.json").string();
    std::vector<std::string> argv{hemeplm_binary(), "fragment", kComplex, "--out", plan};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(plan));
  }
}

}  // namespace
}  // namespace hemeplm::test
