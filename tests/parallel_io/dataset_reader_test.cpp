// DatasetReader: the sampled window's frames for a range or a scattered atom list, from a dataset of
// several trajectories written with H5mdWriter.
#include "hemeplm/parallel_io/dataset_reader.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "h5md_test_frames.hpp"
#include "hemeplm/core/error.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

class DatasetReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    system_ = std::make_unique<System>(test::h5md_test_system());
    dir_ = std::make_unique<test::TempDir>();
    path_ = (dir_->path() / "dataset.h5md").string();
    const int n = system_->atom_count();
    H5mdWriter writer(MPI_COMM_SELF, path_, *system_, {0, n}, test::test_writer_options(8));
    writer.begin_trajectory("a.xtc", 0.2);
    test::append_test_frames(writer, *system_, {0, n}, 0, 30);
    writer.begin_trajectory("b.xtc", 0.2);
    test::append_test_frames(writer, *system_, {0, n}, 30, 11);
    writer.close();
  }
  static void TearDownTestSuite() {
    dir_.reset();
    system_.reset();
  }
  static std::unique_ptr<System> system_;
  static std::unique_ptr<test::TempDir> dir_;
  static std::string path_;
};
std::unique_ptr<System> DatasetReaderTest::system_;
std::unique_ptr<test::TempDir> DatasetReaderTest::dir_;
std::string DatasetReaderTest::path_;

void expect_positions(const System& system, const WindowSample& sample, int frames,
                      const std::vector<int>& atoms, const std::vector<Vec3>& out) {
  for (int f = 0; f < frames; ++f)
    for (std::size_t k = 0; k < atoms.size(); ++k) {
      const Vec3 want = test::test_position(system, sample.first_frame + f, atoms[k]);
      const Vec3 got = out[static_cast<std::size_t>(f) * atoms.size() + k];
      for (int c = 0; c < 3; ++c)
        ASSERT_FLOAT_EQ(static_cast<float>(got[c]), static_cast<float>(want[c]))
            << "frame " << f << " atom " << atoms[k];
    }
}

TEST_F(DatasetReaderTest, ReadsSampledWindowsForRangesAndAtomLists) {
  DatasetReader reader(path_, 8);
  const std::vector<TrajectoryInfo> trajectories = reader.trajectories();
  ASSERT_EQ(trajectories.size(), 2u);
  ShardedWindowSampler sampler(trajectories, 8, 3, 2, 11, 0, 1);
  std::mt19937 generator(5);
  const int n = reader.atom_count();
  for (int i = 0; i < 20; ++i) {
    const WindowSample sample = sampler.next();
    const TrajectoryInfo& t = trajectories[static_cast<std::size_t>(sample.trajectory)];
    ASSERT_LE(sample.first_frame + 8, t.first_frame + t.frame_count);
    // A range.
    std::vector<Vec3> range(8 * 40);
    reader.read(sample, AtomRange{100, 40}, DatasetQuantity::kPositions, range);
    std::vector<int> range_atoms(40);
    for (int k = 0; k < 40; ++k) range_atoms[static_cast<std::size_t>(k)] = 100 + k;
    expect_positions(*system_, sample, 8, range_atoms, range);
    // A scattered, unsorted list with a repeat, read with every gap policy.
    std::vector<int> atoms;
    for (int k = 0; k < 30; ++k) atoms.push_back(static_cast<int>(generator() % static_cast<unsigned>(n)));
    atoms.push_back(atoms.front());
    for (const int gap : {0, 16, 1 << 30}) {
      std::vector<Vec3> out(8 * atoms.size());
      reader.read(sample, atoms, DatasetQuantity::kPositions, out, gap);
      expect_positions(*system_, sample, 8, atoms, out);
    }
  }
  // Forces go through the same path.
  std::vector<Vec3> forces(8 * 2);
  reader.read(WindowSample{1, 31, 0}, std::vector<int>{7, 3}, DatasetQuantity::kForces, forces);
  EXPECT_NEAR(forces[1].x, test::test_force(31, 3).x, 1e-4);
}

TEST_F(DatasetReaderTest, BadRequestsAreUsageErrors) {
  DatasetReader reader(path_, 8);
  std::vector<Vec3> out(8);
  EXPECT_THROW(reader.read(WindowSample{0, 0, 0}, std::vector<int>{-1}, DatasetQuantity::kPositions, out),
               UsageError);
  EXPECT_THROW(reader.read(WindowSample{0, 0, 0}, std::vector<int>{1, 2}, DatasetQuantity::kPositions, out),
               UsageError);
  EXPECT_THROW(reader.read(WindowSample{1, 40, 0}, std::vector<int>{1}, DatasetQuantity::kPositions, out),
               UsageError);
  EXPECT_THROW(DatasetReader(path_, 0), UsageError);
}

}  // namespace
}  // namespace hemeplm::parallel_io
