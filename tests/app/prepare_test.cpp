// hemeplm prepare as a user runs it: real trajectories in, one H5MD dataset out.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace pio = hemeplm::parallel_io;

std::vector<std::string> mpiexec(int ranks, std::vector<std::string> args) {
  std::vector<std::string> argv{HEMEPLM_MPIEXEC, "-n", std::to_string(ranks), "--oversubscribe",
                                hemeplm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(Prepare, Ala2XtcWithTopology) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  const std::string out = (dir.path() / "ala2.h5md").string();
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--topology", top, "--trajectory", xtc, "--out", out});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  pio::H5mdReader reader(out);
  EXPECT_EQ(reader.atom_count(), 22);
  EXPECT_EQ(reader.frame_count(), 501);
  const auto times = reader.times_ps();
  EXPECT_NEAR(times.front(), 500.0, 1e-3);
  EXPECT_NEAR(times.back(), 1000.0, 1e-3);
  const System system = reader.read_system();
  EXPECT_EQ(system.atom_count(), 22);
  EXPECT_EQ(system.residue_count(), 3);
}

TEST(Prepare, StrideHeavyAtomsAndTwoTrajectories) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string out = (dir.path() / "ala2.h5md").string();
  const auto r = run_command({hemeplm_binary(), "prepare", "--topology", top, "--trajectory", xtc,
                              "--trajectory", dcd, "--stride", "10", "--atoms", "heavy", "--out", out});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  pio::H5mdReader reader(out);
  EXPECT_EQ(reader.atom_count(), 10);  // ACE-ALA-NME heavy atoms
  EXPECT_EQ(reader.frame_count(), 2 * 51);
  const auto trajectories = reader.trajectories();
  ASSERT_EQ(trajectories.size(), 2u);
  EXPECT_EQ(trajectories[0].frame_count, 51);
  EXPECT_EQ(trajectories[1].first_frame, 51);
  EXPECT_NEAR(trajectories[0].dt_ps, 10.0, 1e-3);
  // The same frames from both files, to the precision the XTC keeps (1e-3 nm).
  std::vector<Vec3> a(10), b(10);
  reader.read_positions(7, 1, {0, 10}, a);
  reader.read_positions(51 + 7, 1, {0, 10}, b);
  for (int i = 0; i < 10; ++i) EXPECT_LT(norm(a[i] - b[i]), 0.02) << "atom " << i;
}

TEST(Prepare, ExtendedXyzEnergiesAndForcesWithoutTopology) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  TempDir dir;
  const std::string out = (dir.path() / "ethanol.h5md").string();
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--trajectory", xyz, "--stride", "4", "--out", out});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  pio::H5mdReader reader(out);
  EXPECT_EQ(reader.atom_count(), 9);
  EXPECT_EQ(reader.frame_count(), 250);
  EXPECT_TRUE(reader.has_forces());
  const auto names = reader.observable_names();
  ASSERT_NE(std::find(names.begin(), names.end(), "potential_energy"), names.end());
  const auto energy = reader.read_observable("potential_energy", 0, 1);
  // First frame of the file: energy=-4209.4657843064815 eV, times 96.485332 kJ/mol per eV.
  EXPECT_NEAR(energy[0], -4209.4657843064815 * 96.485332, 1e-3);
}

TEST(Prepare, SameFileOnOneAndTwoRanks) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string one = (dir.path() / "one.h5md").string(), two = (dir.path() / "two.h5md").string();
  for (const auto& [ranks, out] : {std::pair{1, one}, std::pair{2, two}}) {
    const auto r =
        run_command(mpiexec(ranks, {"prepare", "--topology", top, "--trajectory", dcd, "--out", out}));
    ASSERT_EQ(r.exit_status, 0) << r.err;
  }
  const auto diff = run_command({"/usr/bin/h5diff", one, two});
  EXPECT_EQ(diff.exit_status, 0) << diff.out << diff.err;
}

TEST(Prepare, MismatchedAtomCountIsAnErrorAndNothingIsOverwritten) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "trpcage_1l2y_38frames.xtc");
  TempDir dir;
  const std::string out = dir.write("existing.h5md", "keep me");
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--topology", top, "--trajectory", xtc, "--out", out});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("atoms"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(out), "keep me");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename(), "existing.h5md") << "left behind: " << entry.path();
}

TEST(Prepare, AtomOrderMismatchIsAnError) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  // The topology with ALA's N and HB3 records swapped: same atoms, another order than the trajectory's.
  std::vector<std::string> lines;
  {
    std::istringstream in(read_text(top));
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  std::vector<std::size_t> atom_lines;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind("ATOM", 0) == 0 || lines[i].rfind("HETATM", 0) == 0) atom_lines.push_back(i);
  ASSERT_EQ(atom_lines.size(), 22u);
  std::swap(lines[atom_lines[6]], lines[atom_lines[13]]);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  const std::string swapped = dir.write("swapped.pdb", text);
  const std::string out = (dir.path() / "out.h5md").string();
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--topology", swapped, "--trajectory", xtc, "--out", out});
  EXPECT_EQ(r.exit_status, 2) << r.out;
  EXPECT_NE(r.err.find("order"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Prepare, TruncatedH5mdIsAnErrorAndNothingIsOverwritten) {
  TempDir dir;
  const std::string source = source_file("inputs/example/reference-md.h5md");
  const std::string text = read_text(source);
  const std::string truncated = dir.write("truncated.h5md", text.substr(0, text.size() / 3));
  const std::string out = dir.write("existing.h5md", "keep me");
  const auto r = run_command({hemeplm_binary(), "prepare", "--trajectory", truncated, "--out", out});
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("truncated.h5md"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(out), "keep me");
}

TEST(Prepare, BundledReferenceMdBecomesAHeavyAtomDataset) {
  TempDir dir;
  const std::string out = (dir.path() / "dataset.h5md").string();
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--trajectory",
                   source_file("inputs/example/reference-md.h5md"), "--atoms", "heavy", "--out", out});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  pio::H5mdReader reader(out);
  EXPECT_EQ(reader.atom_count(), 416);  // 401 helix atoms + 15 ibuprofen heavy atoms
  EXPECT_EQ(reader.frame_count(), 80);
  EXPECT_TRUE(reader.has_forces());
  const System system = reader.read_system();
  EXPECT_FALSE(system.has_hydrogens());
  EXPECT_EQ(system.ligand_molecules().size(), 1u);
}

TEST(Prepare, OptionsOutOfRange) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--stride", "0"}, {"--atoms", "some"}}) {
    std::vector<std::string> argv{hemeplm_binary(), "prepare", "--trajectory", "x.xtc", "--out", "y.h5md"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto r = run_command(argv);
    EXPECT_EQ(r.exit_status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace hemeplm::test
