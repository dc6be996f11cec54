// parallel_io-mpi-test (run by ctest under mpiexec -n 2 and -n 3): the collective H5MD writer gives the
// same file as one rank alone, the parallel reader gives each rank its atoms, and a caller bug
// (ranks appending different frame counts) is an error on every rank instead of a hang.
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h5md_test_frames.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/// A folder all ranks share: rank 0 creates (and later removes) it, the others learn its path.
class SharedDir {
 public:
  SharedDir() {
    if (world_rank() == 0) dir_.emplace();
    std::string path = dir_ ? dir_->path().string() : "";
    int length = static_cast<int>(path.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    path.resize(length);
    MPI_Bcast(path.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = path;
  }
  ~SharedDir() { MPI_Barrier(MPI_COMM_WORLD); }  // nobody still uses it when rank 0 removes it
  const std::filesystem::path& path() const { return path_; }

 private:
  std::optional<test::TempDir> dir_;
  std::filesystem::path path_;
};

/// 37 frames (chunks of 8, an explicit flush in the middle of a chunk, two source trajectories).
void write_frames(MPI_Comm comm, const std::string& path, const System& system, AtomRange owned) {
  H5mdWriter writer(comm, path, system, owned, test::test_writer_options(8));
  test::append_test_frames(writer, system, owned, 0, 13);
  writer.flush();
  test::append_test_frames(writer, system, owned, 13, 7);
  writer.begin_trajectory("second.xtc", 0.2);
  test::append_test_frames(writer, system, owned, 20, 17);
  writer.close();
}

void expect_same_vectors(const H5mdReader& a, const H5mdReader& b, const char* what) {
  const int n = a.atom_count();
  std::vector<Vec3> x(a.frame_count() * n), y(b.frame_count() * n);
  const std::string kind = what;
  auto read = [&](const H5mdReader& reader, std::vector<Vec3>& out) {
    if (kind == "positions") reader.read_positions(0, reader.frame_count(), {0, n}, out);
    if (kind == "velocities") reader.read_velocities(0, reader.frame_count(), {0, n}, out);
    if (kind == "forces") reader.read_forces(0, reader.frame_count(), {0, n}, out);
  };
  read(a, x);
  read(b, y);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(x[i] == y[i]) << what << " differ at " << i;
}

TEST(H5mdMpi, CollectiveFileEqualsOneRankFile) {
  const System system = test::h5md_test_system();
  const int n = system.atom_count();
  const SharedDir dir;
  std::filesystem::create_directories(dir.path() / "all");
  std::filesystem::create_directories(dir.path() / "one");
  const std::string collective = (dir.path() / "all" / "traj.h5md").string();
  const std::string alone = (dir.path() / "one" / "traj.h5md").string();
  MPI_Barrier(MPI_COMM_WORLD);
  write_frames(MPI_COMM_WORLD, collective, system, owned_atoms(n, world_rank(), world_size()));
  if (world_rank() != 0) return;

  write_frames(MPI_COMM_SELF, alone, system, {0, n});
  // h5diff compares every dataset and attribute (same file name inside both folders, so even the
  // trajectory index's source names agree).
  if (std::filesystem::exists("/usr/bin/h5diff")) {
    const test::CommandResult diff = test::run_command({"/usr/bin/h5diff", collective, alone});
    EXPECT_EQ(diff.exit_status, 0) << diff.out << diff.err;
  }
  const H5mdReader a(collective), b(alone);
  ASSERT_EQ(a.frame_count(), 37);
  ASSERT_EQ(b.frame_count(), 37);
  EXPECT_EQ(a.steps(), b.steps());
  EXPECT_EQ(a.times_ps(), b.times_ps());
  for (const std::string& name : a.observable_names())
    EXPECT_EQ(a.read_observable(name, 0, 37), b.read_observable(name, 0, 37)) << name;
  for (std::int64_t f = 0; f < 37; ++f) {
    ASSERT_TRUE(a.box(f)->vectors[0] == b.box(f)->vectors[0]);
    ASSERT_TRUE(a.box(f)->vectors[2] == b.box(f)->vectors[2]);
  }
  expect_same_vectors(a, b, "positions");
  expect_same_vectors(a, b, "velocities");
  expect_same_vectors(a, b, "forces");
  const std::vector<TrajectoryInfo> ta = a.trajectories(), tb = b.trajectories();
  ASSERT_EQ(ta.size(), 2u);
  ASSERT_EQ(tb.size(), 2u);
  for (std::size_t t = 0; t < 2; ++t) {
    EXPECT_EQ(ta[t].first_frame, tb[t].first_frame);
    EXPECT_EQ(ta[t].frame_count, tb[t].frame_count);
    EXPECT_EQ(ta[t].source, tb[t].source);
    EXPECT_EQ(ta[t].dt_ps, tb[t].dt_ps);
  }
  const System sa = a.read_system(), sb = b.read_system();
  EXPECT_EQ(sa.atom_names, sb.atom_names);
  EXPECT_EQ(sa.features, sb.features);
  EXPECT_EQ(sa.bonds.size(), system.bonds.size());
}

TEST(H5mdMpi, ParallelReaderGivesEachRankItsAtoms) {
  const System system = test::h5md_test_system();
  const int n = system.atom_count();
  const SharedDir dir;
  const std::string path = (dir.path() / "traj.h5md").string();
  const AtomRange mine = owned_atoms(n, world_rank(), world_size());
  write_frames(MPI_COMM_WORLD, path, system, mine);
  const H5mdReader reader(path, MPI_COMM_WORLD);
  ASSERT_EQ(reader.frame_count(), 37);
  std::vector<Vec3> positions(5 * mine.count);
  reader.read_positions(30, 5, mine, positions);
  for (int f = 0; f < 5; ++f)
    for (int k = 0; k < mine.count; ++k)
      ASSERT_FLOAT_EQ(static_cast<float>(positions[f * mine.count + k].x),
                      static_cast<float>(test::test_position(system, 30 + f, mine.first + k).x));
}

TEST(H5mdMpi, DifferentFrameCountsAreAnErrorOnEveryRank) {
  const System system = test::h5md_test_system();
  const int n = system.atom_count();
  const SharedDir dir;
  const AtomRange mine = owned_atoms(n, world_rank(), world_size());
  H5mdWriter writer(MPI_COMM_WORLD, (dir.path() / "bad.h5md").string(), system, mine,
                    test::test_writer_options(8));
  test::append_test_frames(writer, system, mine, 0, world_rank() == 1 ? 3 : 2);
  EXPECT_THROW(writer.flush(), Error);
}

TEST(H5mdMpi, AtomRangesMustPartitionTheAtoms) {
  const System system = test::h5md_test_system();
  const SharedDir dir;
  const AtomRange wrong{0, system.atom_count()};  // every rank claims every atom
  EXPECT_THROW(H5mdWriter(MPI_COMM_WORLD, (dir.path() / "x.h5md").string(), system, wrong,
                          test::test_writer_options(8)),
               UsageError);
}

}  // namespace
}  // namespace hemeplm::parallel_io

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  // Only rank 0 prints; the others run the same tests silently.
  std::unique_ptr<::testing::TestEventListener> silenced;
  if (hemeplm::parallel_io::world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    silenced.reset(listeners.Release(listeners.default_result_printer()));
  }
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  // Every rank returns the same status, so mpiexec reports a failure seen on any rank.
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed;
}
