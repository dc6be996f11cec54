// Per-residue annotation on the bundled example complex: the pocket against a plain minimum-distance
// reference, residue centres and force sums/errors against hand-made forces, residues.csv, and the PyMOL
// script and PNG renderers run for real when Debian's pymol and matplotlib are installed.
#include "hemeplm/evaluate/residue_annotation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/evaluate/bfactor_structure.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

System example_complex() {
  return load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
}

/// The smallest heavy-atom distance between residue r and any ligand heavy atom (plain reference).
double min_ligand_distance(const System& s, int r) {
  double best = std::numeric_limits<double>::infinity();
  const Residue& residue = s.residues[static_cast<std::size_t>(r)];
  for (int a = residue.first_atom; a < residue.first_atom + residue.atom_count; ++a) {
    if (s.atomic_numbers[static_cast<std::size_t>(a)] == 1) continue;
    for (int b = 0; b < s.atom_count(); ++b)
      if (s.residue_of(b).kind == ResidueKind::kLigand && s.atomic_numbers[static_cast<std::size_t>(b)] != 1)
        best = std::min(
            best, norm(s.positions[static_cast<std::size_t>(a)] - s.positions[static_cast<std::size_t>(b)]));
  }
  return best;
}

/// A force on every atom that differs from atom to atom (reproducible).
std::vector<Vec3> made_up_forces(const System& s, double shift) {
  std::vector<Vec3> f;
  for (int a = 0; a < s.atom_count(); ++a)
    f.push_back({std::sin(a + shift), std::cos(0.5 * a), 0.01 * (a % 13) - shift});
  return f;
}

ResidueAnnotation annotate(const System& s, double radius) {
  ResidueAnnotation annotation;
  for (int r = 0; r < s.residue_count(); ++r) annotation.energy.push_back(-10.0 + 0.5 * r);
  const auto forces = made_up_forces(s, 0.0);
  annotation.force = residue_force_sums(s, forces);
  annotation.force_error = residue_force_errors(s, forces, made_up_forces(s, 0.3));
  annotation.centre = residue_centres(s, s.positions);
  annotation.in_pocket = pocket_residues(s, s.positions, radius);
  return annotation;
}

TEST(PocketResidues, MatchAPlainMinimumDistanceOnTheExampleComplex) {
  const System s = example_complex();
  for (const double radius : {4.0, 8.0}) {
    const auto pocket = pocket_residues(s, s.positions, radius);
    int count = 0;
    for (int r = 0; r < s.residue_count(); ++r) {
      const auto kind = s.residues[static_cast<std::size_t>(r)].kind;
      const bool expected =
          kind == ResidueKind::kLigand ||
          (kind != ResidueKind::kWater && kind != ResidueKind::kIon && min_ligand_distance(s, r) <= radius);
      ASSERT_EQ(pocket[static_cast<std::size_t>(r)] != 0, expected)
          << "residue " << r << " radius " << radius;
      count += pocket[static_cast<std::size_t>(r)];
    }
    EXPECT_GT(count, 1) << radius;                  // the ligand and at least one neighbour
    EXPECT_LT(count, s.residue_count()) << radius;  // but not the whole protein
  }
  // A larger radius keeps every residue of a smaller one.
  const auto small = pocket_residues(s, s.positions, 4.0), large = pocket_residues(s, s.positions, 8.0);
  for (std::size_t r = 0; r < small.size(); ++r)
    if (small[r]) {
      EXPECT_TRUE(large[r]) << r;
    }
}

TEST(PocketResidues, WithoutALigandEveryResidueIsDrawn) {
  const System s = load_system({test::source_file("inputs/example/complex.pdb"), {}});
  // complex.pdb alone has no HETATM group, so there is no ligand molecule.
  ASSERT_TRUE(s.ligand_molecules().empty());
  const auto pocket = pocket_residues(s, s.positions, 8.0);
  for (const char p : pocket) EXPECT_TRUE(p);
}

TEST(ResidueForces, SumsErrorsAndCentresByHand) {
  const System s = example_complex();
  const auto f = made_up_forces(s, 0.0), g = made_up_forces(s, 0.3);
  const auto sums = residue_force_sums(s, f);
  const auto errors = residue_force_errors(s, f, g);
  const auto centres = residue_centres(s, s.positions);
  for (int r = 0; r < s.residue_count(); ++r) {
    const Residue& residue = s.residues[static_cast<std::size_t>(r)];
    Vec3 sum;
    double error = 0;
    for (int a = residue.first_atom; a < residue.first_atom + residue.atom_count; ++a) {
      sum += f[static_cast<std::size_t>(a)];
      error += norm(f[static_cast<std::size_t>(a)] - g[static_cast<std::size_t>(a)]);
    }
    EXPECT_LT(norm(sums[static_cast<std::size_t>(r)] - sum), 1e-12) << r;
    EXPECT_NEAR(errors[static_cast<std::size_t>(r)], error / residue.atom_count, 1e-12) << r;
    if (residue.kind == ResidueKind::kAminoAcid) {
      int ca = -1;
      for (int a = residue.first_atom; a < residue.first_atom + residue.atom_count; ++a)
        if (s.atom_names[static_cast<std::size_t>(a)] == "CA") ca = a;
      ASSERT_GE(ca, 0) << r;
      EXPECT_EQ(centres[static_cast<std::size_t>(r)], s.positions[static_cast<std::size_t>(ca)]) << r;
    }
  }
  EXPECT_THROW(residue_force_sums(s, std::vector<Vec3>(3)), UsageError);
}

TEST(ResidueCsv, OneRowPerResidueWithTheValuesWritten) {
  const System s = example_complex();
  const auto annotation = annotate(s, 8.0);
  TempDir dir;
  const std::string path = (dir.path() / "residues.csv").string();
  write_residue_csv(path, s, annotation);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line,
            "chain,residue_number,residue_name,kind,energy_kJ_mol,force_error_kJ_mol_A,force_norm_kJ_mol_A,"
            "force_x,force_y,force_z,centre_x,centre_y,centre_z,in_pocket");
  int r = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 14u) << line;
    const Residue& residue = s.residues[static_cast<std::size_t>(r)];
    EXPECT_EQ(fields[1], std::to_string(residue.seq));
    EXPECT_EQ(fields[2], residue.name);
    EXPECT_NEAR(std::stod(fields[4]), annotation.energy[static_cast<std::size_t>(r)], 1e-6);
    EXPECT_NEAR(std::stod(fields[5]), annotation.force_error[static_cast<std::size_t>(r)], 1e-6);
    EXPECT_NEAR(std::stod(fields[6]), norm(annotation.force[static_cast<std::size_t>(r)]), 1e-6);
    EXPECT_EQ(fields[13], annotation.in_pocket[static_cast<std::size_t>(r)] ? "1" : "0");
    ++r;
  }
  EXPECT_EQ(r, s.residue_count());
}

TEST(ArrowScale, LongestPocketArrowHasTheRequestedLength) {
  const System s = example_complex();
  const auto annotation = annotate(s, 8.0);
  const double scale = arrow_scale(annotation, 5.0);
  double longest = 0;
  for (std::size_t r = 0; r < annotation.force.size(); ++r)
    if (annotation.in_pocket[r]) longest = std::max(longest, norm(annotation.force[r]) * scale);
  EXPECT_NEAR(longest, 5.0, 1e-12);
}

/// Writes energy.pdb, residues.csv and pocket_forces.py of the example into `dir`.
ResidueAnnotation write_outputs(const System& s, const fs::path& dir) {
  auto annotation = annotate(s, 8.0);
  write_bfactor_pdb((dir / "energy.pdb").string(), s, s.positions,
                    residue_values_per_atom(s, annotation.energy), {"energy", "kJ/mol"});
  write_residue_csv((dir / "residues.csv").string(), s, annotation);
  write_pymol_force_script((dir / "pocket_forces.py").string(), "energy.pdb", s, annotation,
                           arrow_scale(annotation));
  return annotation;
}

TEST(PymolForceScript, HasOneArrowPerPocketResidueAndRunsInPymol) {
  const System s = example_complex();
  TempDir dir;
  const auto annotation = write_outputs(s, dir.path());
  const std::string script = test::read_text((dir.path() / "pocket_forces.py").string());
  int pocket = 0;
  for (const char p : annotation.in_pocket) pocket += p;
  std::size_t arrows = 0;
  for (std::size_t at = script.find("\n    (\""); at != std::string::npos;
       at = script.find("\n    (\"", at + 1))
    ++arrows;
  EXPECT_EQ(arrows, static_cast<std::size_t>(pocket));
  EXPECT_NE(script.find("SCALE = "), std::string::npos);

  // Run from another folder: the script finds energy.pdb beside itself.
  const auto r = test::run_command({"/usr/bin/env", "PATH=/usr/bin:/bin", "pymol", "-cq",
                                    (dir.path() / "pocket_forces.py").string(), "-d",
                                    "/print('objects', cmd.get_names('objects'))"});
  if (r.exit_status == 127) GTEST_SKIP() << "pymol is not installed (apt-get install pymol)";
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(std::to_string(pocket) + " force arrows"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("'energy', 'force_arrows'"), std::string::npos) << r.out << r.err;
}

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in && std::string(magic + 1, 3) == "PNG" && fs::file_size(path) > 1000;
}

TEST(AnnotationRenderers, WritePngFilesOrSayWhyNot) {
  const System s = example_complex();
  TempDir dir;
  write_outputs(s, dir.path());
  std::ostringstream log;
  const auto projection = render_force_projection(dir.path().string(), "", log);
  if (projection.written.empty()) {
    ASSERT_FALSE(projection.notes.empty());
    EXPECT_NE(projection.notes[0].find("matplotlib"), std::string::npos) << projection.notes[0];
  } else {
    EXPECT_EQ(projection.written, std::vector<std::string>{"pocket_forces.png"});
    EXPECT_TRUE(is_png(dir.path() / "pocket_forces.png"));
  }
  const auto pymol = render_pymol(dir.path().string(), 320, 240, log);
  if (pymol.written.empty()) {
    ASSERT_FALSE(pymol.notes.empty());
    EXPECT_NE(pymol.notes[0].find("pymol"), std::string::npos) << pymol.notes[0];
  } else {
    EXPECT_EQ(pymol.written, (std::vector<std::string>{"energy.png", "pocket_forces_3d.png"}))
        << (pymol.notes.empty() ? "" : pymol.notes[0]);
    EXPECT_TRUE(is_png(dir.path() / "energy.png"));
    EXPECT_TRUE(is_png(dir.path() / "pocket_forces_3d.png"));
  }
}

TEST(AnnotationRenderers, AMissingPythonIsANoteNotAnError) {
  const System s = example_complex();
  TempDir dir;
  write_outputs(s, dir.path());
  std::ostringstream log;
  const auto result = render_force_projection(dir.path().string(), "/nonexistent/python3", log);
  EXPECT_TRUE(result.written.empty());
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("not found"), std::string::npos) << result.notes[0];
}

}  // namespace
}  // namespace hemeplm::evaluate
