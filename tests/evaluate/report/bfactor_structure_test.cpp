// The B-factor PDB/mmCIF writers on the bundled example complex (protein + ligand file): read back with
// the project's own reader (gemmi), the B-factor columns parsed by hand and by MDAnalysis (Debian's
// /usr/bin/python3) and compared with the values written; the scaling rule for values PDB cannot hold.
#include "hemeplm/evaluate/bfactor_structure.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

using test::TempDir;

System example_complex() {
  return load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
}

/// Per-residue values over a range wider than PDB's B-factor column, so the writer has to scale.
std::vector<double> spread_values(const System& system) {
  std::vector<double> values;
  for (int r = 0; r < system.residue_count(); ++r) values.push_back(-2500.0 + 37.25 * r + 0.123456 * (r % 7));
  return values;
}

/// Columns 61-66 of every ATOM/HETATM record, parsed as written (the plain reference).
std::vector<double> pdb_bfactors(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<double> values;
  while (std::getline(in, line))
    if (line.rfind("ATOM  ", 0) == 0 || line.rfind("HETATM", 0) == 0)
      values.push_back(std::stod(line.substr(60, 6)));
  return values;
}

/// B_iso_or_equiv of every _atom_site row (the 15th item of the loop as written).
std::vector<std::string> cif_bfactors(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> values;
  while (std::getline(in, line)) {
    if (line.rfind("ATOM ", 0) != 0 && line.rfind("HETATM ", 0) != 0) continue;
    std::istringstream fields(line);
    std::string field;
    for (int k = 0; k < 15; ++k) fields >> field;
    values.push_back(field);
  }
  return values;
}

TEST(PdbBFactorScale, PowersOfTenOnlyWhenNeeded) {
  EXPECT_EQ(pdb_bfactor_scale({0.0, -99.99, 999.99}).scale, 1.0);
  EXPECT_DOUBLE_EQ(pdb_bfactor_scale({1000.0}).scale, 0.1);
  EXPECT_DOUBLE_EQ(pdb_bfactor_scale({-100.0, 5.0}).scale, 0.1);
  EXPECT_DOUBLE_EQ(pdb_bfactor_scale({-2500.0}).scale, 0.01);
  EXPECT_DOUBLE_EQ(pdb_bfactor_scale({123456.0}).scale, 0.001);
  const auto with_nan = pdb_bfactor_scale({1.0, std::nan(""), 2.0});
  EXPECT_EQ(with_nan.scale, 1.0);
  EXPECT_EQ(with_nan.not_a_number, 1);
}

TEST(PdbChainIds, LigandFileChainsGetAFreeLetter) {
  const System system = example_complex();
  const auto ids = pdb_chain_ids(system);
  ASSERT_EQ(ids.size(), system.chains.size());
  for (std::size_t c = 0; c < ids.size(); ++c) {
    if (system.chains[c].name.size() == 1) {
      EXPECT_EQ(ids[c], system.chains[c].name[0]);
    }
    for (std::size_t d = 0; d < c; ++d) EXPECT_NE(ids[c], ids[d]);
  }
}

TEST(BFactorPdb, RoundTripThroughTheProjectReaderAndColumns) {
  const System system = example_complex();
  ASSERT_FALSE(system.ligand_molecules().empty());
  TempDir dir;
  const std::string path = (dir.path() / "energy.pdb").string();
  const auto residue_values = spread_values(system);
  const auto atom_values = residue_values_per_atom(system, residue_values);
  const auto scale = write_bfactor_pdb(path, system, system.positions, atom_values, {"test value", "kJ/mol"});
  EXPECT_DOUBLE_EQ(scale.scale, 0.01);  // -2500 kJ/mol needs two decades to fit -99.99
  const std::string text = test::read_text(path);
  EXPECT_NE(text.find("REMARK  99 B-FACTOR: test value (kJ/mol)\nREMARK  99 B-FACTOR = VALUE TIMES 0.01 ("),
            std::string::npos)
      << text.substr(0, 400);
  EXPECT_NE(text.find("HETATM"), std::string::npos);
  EXPECT_NE(text.find("CONECT"), std::string::npos);

  const auto b = pdb_bfactors(path);
  ASSERT_EQ(b.size(), atom_values.size());
  for (std::size_t a = 0; a < b.size(); ++a)
    ASSERT_NEAR(b[a] / scale.scale, atom_values[a], 0.005 / scale.scale + 1e-9) << "atom " << a;

  // The project's reader (gemmi) sees the same atoms, names, residues and coordinates.
  const System back = load_system({path, {}});
  ASSERT_EQ(back.atom_count(), system.atom_count());
  for (int a = 0; a < system.atom_count(); ++a) {
    const auto ua = static_cast<std::size_t>(a);
    ASSERT_EQ(back.atom_names[ua], system.atom_names[ua]) << a;
    ASSERT_EQ(back.atomic_numbers[ua], system.atomic_numbers[ua]) << a;
    ASSERT_EQ(back.residue_of(a).seq, system.residue_of(a).seq) << a;
    ASSERT_EQ(back.residue_of(a).name, system.residue_of(a).name) << a;
    ASSERT_LT(norm(back.positions[ua] - system.positions[ua]), 1e-3) << a;
  }
  EXPECT_EQ(back.ligand_molecules().size(), system.ligand_molecules().size());
}

TEST(BFactorPdb, ValuesThatFitAreWrittenUnscaled) {
  const System system = example_complex();
  TempDir dir;
  const std::string path = (dir.path() / "small.pdb").string();
  std::vector<double> residue_values;
  for (int r = 0; r < system.residue_count(); ++r) residue_values.push_back(-50.0 + 0.37 * r);
  const auto atom_values = residue_values_per_atom(system, residue_values);
  EXPECT_EQ(write_bfactor_pdb(path, system, system.positions, atom_values, {"v", "u"}).scale, 1.0);
  const auto b = pdb_bfactors(path);
  ASSERT_EQ(b.size(), atom_values.size());
  for (std::size_t a = 0; a < b.size(); ++a) ASSERT_NEAR(b[a], atom_values[a], 0.0050001) << a;
}

TEST(BFactorPdb, MDAnalysisReadsNamesResiduesAndBFactors) {
  const System system = example_complex();
  TempDir dir;
  const std::string path = (dir.path() / "energy.pdb").string();
  const auto atom_values = residue_values_per_atom(system, spread_values(system));
  const auto scale = write_bfactor_pdb(path, system, system.positions, atom_values, {"v", "u"});
  const std::string script =
      "import json, sys, warnings\n"
      "warnings.simplefilter('ignore')\n"
      "try:\n    import MDAnalysis as mda\nexcept ImportError:\n    sys.exit(5)\n"
      "u = mda.Universe(sys.argv[1])\n"
      "print(json.dumps({'n': len(u.atoms), 'b': [float(x) for x in u.atoms.tempfactors],\n"
      "  'names': list(u.atoms.names), 'resids': [int(r) for r in u.atoms.resids],\n"
      "  'record': list(u.atoms.record_types)}))\n";
  const auto r = test::run_command({"/usr/bin/python3", "-c", script, path}, 120);
  if (r.exit_status == 5 || r.exit_status == 127) GTEST_SKIP() << "MDAnalysis is not installed";
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto result = nlohmann::json::parse(r.out.substr(r.out.rfind('{')));
  ASSERT_EQ(result["n"].get<int>(), system.atom_count());
  for (int a = 0; a < system.atom_count(); ++a) {
    const auto ua = static_cast<std::size_t>(a);
    // MDAnalysis keeps B-factors as float32: its rounding comes on top of the column's.
    ASSERT_NEAR(result["b"][ua].get<double>() / scale.scale, atom_values[ua], 0.0051 / scale.scale) << a;
    ASSERT_EQ(result["names"][ua].get<std::string>(), system.atom_names[ua]) << a;
    ASSERT_EQ(result["resids"][ua].get<int>(), system.residue_of(a).seq) << a;
    const bool ligand = system.residue_of(a).kind == ResidueKind::kLigand;
    ASSERT_EQ(result["record"][ua].get<std::string>(), ligand ? "HETATM" : "ATOM") << a;
  }
}

TEST(BFactorMmcif, RoundTripKeepsChainsAndFullPrecision) {
  const System system = example_complex();
  TempDir dir;
  const std::string path = (dir.path() / "energy.cif").string();
  auto atom_values = residue_values_per_atom(system, spread_values(system));
  atom_values[3] = std::nan("");
  write_bfactor_mmcif(path, system, system.positions, atom_values, {"test value", "kJ/mol"});
  const auto b = cif_bfactors(path);
  ASSERT_EQ(b.size(), atom_values.size());
  EXPECT_EQ(b[3], "?");
  for (std::size_t a = 0; a < b.size(); ++a) {
    if (a == 3) continue;
    ASSERT_NEAR(std::stod(b[a]), atom_values[a], 1e-5 * std::abs(atom_values[a])) << a;
  }
  const System back = load_system({path, {}});
  ASSERT_EQ(back.atom_count(), system.atom_count());
  for (int a = 0; a < system.atom_count(); ++a) {
    const auto ua = static_cast<std::size_t>(a);
    ASSERT_EQ(back.atom_names[ua], system.atom_names[ua]) << a;
    ASSERT_EQ(back.residue_of(a).seq, system.residue_of(a).seq) << a;
    ASSERT_LT(norm(back.positions[ua] - system.positions[ua]), 1e-3) << a;
    const auto& chain = system.chains[static_cast<std::size_t>(system.residue_of(a).chain)].name;
    ASSERT_EQ(back.chains[static_cast<std::size_t>(back.residue_of(a).chain)].name, chain) << a;
  }
}

TEST(BFactorWriters, WrongSizesAndUnwritablePathsAreErrors) {
  const System system = example_complex();
  TempDir dir;
  EXPECT_THROW(residue_values_per_atom(system, {1.0}), UsageError);
  const std::vector<double> short_values(3, 1.0);
  EXPECT_THROW(
      write_bfactor_pdb((dir.path() / "x.pdb").string(), system, system.positions, short_values, {"", ""}),
      UsageError);
  const auto values = std::vector<double>(static_cast<std::size_t>(system.atom_count()), 1.0);
  EXPECT_THROW(write_bfactor_pdb((dir.path() / "missing" / "x.pdb").string(), system, system.positions,
                                 values, {"", ""}),
               InputError);
}

}  // namespace
}  // namespace hemeplm::evaluate
