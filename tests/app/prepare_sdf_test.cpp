// hemeplm prepare on an SDF conformer set (records of one molecule become frames), and a stage-1
// training run on the dataset it writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace fs = std::filesystem;
namespace pio = hemeplm::parallel_io;

TEST(PrepareSdf, RuxolitinibConformersBecomeTenFramesAndTrainStageOne) {
  HEMEPLM_REQUIRE_SHARED_DATA(sdf, "ruxolitinib_10conformers.sdf");
  TempDir dir;
  const std::string data = (dir.path() / "set.h5md").string();
  const auto r = run_command({hemeplm_binary(), "prepare", "--trajectory", sdf, "--out", data});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  {
    pio::H5mdReader reader(data);
    EXPECT_EQ(reader.frame_count(), 10);
    EXPECT_EQ(reader.atom_count(), 41);
    EXPECT_FALSE(reader.has_forces());
    EXPECT_TRUE(reader.observable_names().empty());
    const auto times = reader.times_ps();
    ASSERT_EQ(times.size(), 10u);
    for (double t : times) EXPECT_EQ(t, 0.0);  // no time axis
    const auto trajectories = reader.trajectories();
    ASSERT_EQ(trajectories.size(), 1u);
    EXPECT_EQ(trajectories[0].dt_ps, 0.0);
    const System system = reader.read_system();
    EXPECT_EQ(system.atom_count(), 41);
    EXPECT_EQ(system.bonds.size(), 44u);
    EXPECT_EQ(std::count(system.atomic_numbers.begin(), system.atomic_numbers.end(), 1), 18);
  }

  const fs::path checkpoints = dir.path() / "ckpt";
  const auto t = run_command({hemeplm_binary(), "train", "--data", data, "--stage", "1", "--steps", "5",
                              "--batch", "2", "--warmup-steps", "1", "--validation-fraction", "0.2",
                              "--checkpoint-dir", checkpoints.string(), "--threads", "1"},
                             300);
  ASSERT_EQ(t.exit_status, 0) << t.out << t.err;
  EXPECT_TRUE(fs::exists(checkpoints / "checkpoint-000000005.h5")) << t.out;
}

TEST(PrepareSdf, DifferentMoleculesAreRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(drugbank, "minidrugbank_371.sdf");
  std::istringstream in(read_text(drugbank));
  std::string line, two;
  for (int ends = 0; ends < 2 && std::getline(in, line);) {
    two += line + "\n";
    if (line.rfind("$$$$", 0) == 0) ++ends;
  }
  TempDir dir;
  const std::string mixed = dir.write("two_drugs.sdf", two);
  const std::string out = (dir.path() / "out.h5md").string();
  const auto r = run_command({hemeplm_binary(), "prepare", "--trajectory", mixed, "--out", out});
  EXPECT_EQ(r.exit_status, 2) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("two_drugs.sdf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace hemeplm::test
