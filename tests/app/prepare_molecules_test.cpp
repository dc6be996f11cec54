// hemeplm prepare --molecules: the QM9 extended XYZ in, one single-frame dataset per molecule with its
// property labels out; a held-out split as two calls; the trajectory import refuses the same file.
#include <gtest/gtest.h>

#include <filesystem>

#include "hemeplm/parallel_io/dataset_reader.hpp"
#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace pio = hemeplm::parallel_io;
constexpr double kEvPerHartree = 27.211386245988;

std::vector<std::string> h5md_files(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PrepareMolecules, Qm9SplitIntoTrainingAndHeldOutMolecules) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  TempDir dir;
  const auto train = dir.path() / "train", test = dir.path() / "test";
  const auto r = run_command({hemeplm_binary(), "prepare", "--molecules", qm9, "--out-dir", train.string(),
                              "--first-frame", "0", "--last-frame", "80"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 80 molecules"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 to 17 atoms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gap [eV]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cv [cal mol-1 K-1]"), std::string::npos) << r.out;
  const auto held_out = run_command(
      {hemeplm_binary(), "prepare", "--molecules", qm9, "--out-dir", test.string(), "--first-frame", "80"});
  ASSERT_EQ(held_out.exit_status, 0) << held_out.err;

  const auto train_files = h5md_files(train), test_files = h5md_files(test);
  ASSERT_EQ(train_files.size(), 80u);
  ASSERT_EQ(test_files.size(), 20u);
  EXPECT_EQ(train_files.front(), "mol-000000.h5md");
  EXPECT_EQ(train_files.back(), "mol-000079.h5md");
  EXPECT_EQ(test_files.front(), "mol-000080.h5md");
  EXPECT_EQ(test_files.back(), "mol-000099.h5md");

  const pio::DatasetReader methane((train / "mol-000000.h5md").string(), 1);
  EXPECT_EQ(methane.h5md().frame_count(), 1);
  EXPECT_EQ(methane.atom_count(), 5);
  EXPECT_NEAR(methane.property("gap", 0), 0.5048 * kEvPerHartree, 1e-9);
  EXPECT_NEAR(methane.property("gap", 0), 13.736, 5e-4);
  EXPECT_EQ(methane.property_unit("gap"), "eV");
  EXPECT_EQ(methane.property_names().size(), 15u);
  const System system = methane.h5md().read_system();
  EXPECT_EQ(system.atomic_numbers, (std::vector<int>{6, 1, 1, 1, 1}));
  EXPECT_EQ(system.bonds.size(), 4u);

  const pio::DatasetReader last((test / "mol-000099.h5md").string(), 1);
  EXPECT_EQ(last.atom_count(), 13);
  const pio::DatasetReader m80((test / "mol-000080.h5md").string(), 1);
  EXPECT_NEAR(m80.property("u0", 0), -233.555951 * kEvPerHartree, 1e-9);
  EXPECT_DOUBLE_EQ(m80.property("r2", 0), 521.8605);
}

TEST(PrepareMolecules, RanksShareTheMolecules) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  TempDir dir;
  const auto out = dir.path() / "mols";
  const auto r =
      run_command({HEMEPLM_MPIEXEC, "-n", "2", "--oversubscribe", hemeplm_binary(), "prepare", "--molecules",
                   qm9, "--out-dir", out.string(), "--first-frame", "10", "--last-frame", "15"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(h5md_files(out),
            (std::vector<std::string>{"mol-000010.h5md", "mol-000011.h5md", "mol-000012.h5md",
                                      "mol-000013.h5md", "mol-000014.h5md"}));
  for (const auto& name : h5md_files(out))
    EXPECT_EQ(pio::read_frame_properties((out / name).string()).names.size(), 15u) << name;
}

TEST(PrepareMolecules, TrajectoryImportRefusesAMoleculeSet) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  TempDir dir;
  const auto r = run_command(
      {hemeplm_binary(), "prepare", "--trajectory", qm9, "--out", (dir.path() / "x.h5md").string()});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("frame has 4 atoms, frame 0 has 5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--molecules"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x.h5md"));
}

TEST(PrepareMolecules, UsageErrors) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  TempDir dir;
  const std::string out = (dir.path() / "m").string();
  auto r = run_command({hemeplm_binary(), "prepare", "--molecules", qm9});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("--out-dir"), std::string::npos) << r.err;
  r = run_command({hemeplm_binary(), "prepare", "--molecules", qm9, "--out-dir", out, "--out", "x.h5md"});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = run_command(
      {hemeplm_binary(), "prepare", "--molecules", qm9, "--out-dir", out, "--first-frame", "100"});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("no molecule"), std::string::npos) << r.err;
  r = run_command({hemeplm_binary(), "prepare", "--help"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("--molecules"), std::string::npos);
  EXPECT_NE(r.out.find("--out-dir"), std::string::npos);
}

}  // namespace
}  // namespace hemeplm::test
