// Crash tolerance of the H5MD writer: a writer process killed with SIGKILL (while writing, or idle after
// its flushes) leaves a file that H5mdReader and MDAnalysis open, holding at least every frame flushed
// before the kill, each with the values written.
//
// The writer runs in a child process started from this same binary (fresh exec, so MPI initialises as a
// singleton there) with HEMEPLM_H5MD_CRASH_DIR set, which makes main() run run_crash_child_writer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "h5md_test_frames.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr const char* kChildDir = "HEMEPLM_H5MD_CRASH_DIR";
constexpr int kChunk = 4;
constexpr int kChildFrames = 600;

/// Frames the child has flushed, as it last reported (-1 before its first report).
long long read_progress(const std::filesystem::path& dir) {
  std::ifstream in(dir / "progress");
  long long value = -1;
  in >> value;
  return in ? value : -1;
}

}  // namespace

/// The child process of KilledWriterLeavesEveryFlushedFrame: main() calls it instead of running the
/// tests when HEMEPLM_H5MD_CRASH_DIR is set. Writes and flushes chunks, reporting after each, then idles
/// with the file open until it is killed.
[[noreturn]] void run_crash_child_writer(const char* dir_text) {
  const std::filesystem::path dir(dir_text);
  const System system = test::h5md_test_system();
  const int n = system.atom_count();
  H5mdWriter writer(MPI_COMM_SELF, (dir / "crash.h5md").string(), system, {0, n},
                    test::test_writer_options(kChunk));
  for (int f = 0; f < kChildFrames; f += kChunk) {
    test::append_test_frames(writer, system, {0, n}, f, kChunk);  // the last append flushes the chunk
    std::ofstream(dir / "progress.tmp") << f + kChunk << '\n';
    std::filesystem::rename(dir / "progress.tmp", dir / "progress");
  }
  for (;;) pause();
}

namespace {

/// Starts the child writer in `dir`, kills it with SIGKILL once it reports `frames` flushed frames,
/// and returns the count it had reported by then.
long long kill_writer_after(const std::filesystem::path& dir, long long frames) {
  const pid_t child = fork();
  if (child == 0) {
    setenv(kChildDir, dir.c_str(), 1);
    // The child's gtest output goes to a log beside the file instead of into this test's output.
    const int log = open((dir / "child.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    execl(self.c_str(), self.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (read_progress(dir) < frames && std::chrono::steady_clock::now() < deadline) {
    if (waitpid(child, &status, WNOHANG) == child) {
      ADD_FAILURE() << "the child writer exited early with status " << status;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  return read_progress(dir);
}

TEST(H5mdCrash, KilledWriterLeavesEveryFlushedFrame) {
  const System system = test::h5md_test_system();
  const int n = system.atom_count();
  // Killed early and mid-stream (while it writes and flushes), and idle after its last flush.
  for (long long kill_at : {8LL, 200LL, static_cast<long long>(kChildFrames)}) {
    SCOPED_TRACE("killed after " + std::to_string(kill_at) + " frames");
    const test::TempDir dir;
    const long long flushed = kill_writer_after(dir.path(), kill_at);
    ASSERT_GE(flushed, kill_at);
    const std::string path = (dir.path() / "crash.h5md").string();
    const H5mdReader reader(path);
    const std::int64_t frames = reader.frame_count();
    EXPECT_GE(frames, flushed);
    EXPECT_EQ(frames % kChunk, 0) << "a partial chunk reached the file";
    std::vector<Vec3> positions(frames * n);
    reader.read_positions(0, frames, {0, n}, positions);  // also checks every value is finite
    const std::vector<std::int64_t> steps = reader.steps();
    const std::vector<double> energies = reader.read_observable("potential_energy", 0, frames);
    for (std::int64_t f = 0; f < frames; ++f) {
      ASSERT_EQ(steps[f], test::test_step(f));
      ASSERT_DOUBLE_EQ(energies[f], test::test_energy(f));
      for (int i = 0; i < n; i += 37)
        ASSERT_FLOAT_EQ(static_cast<float>(positions[f * n + i].z),
                        static_cast<float>(test::test_position(system, f, i).z));
    }
    EXPECT_EQ(reader.trajectories().at(0).frame_count, frames);  // no index: one trajectory of all frames
    EXPECT_EQ(reader.read_system().atom_count(), n);

    // Other readers see the datasets' extents: after a kill mid-chunk they can hold up to one chunk of
    // fill values past the last flush (parallel HDF5 allocates chunks when a dataset is extended), which
    // only hemeplm's reader trims (flushed_frames). MDAnalysis is checked on the writer killed idle.
    if (kill_at == kChildFrames) {
      const nlohmann::json expected{{"atoms", n}, {"frames", frames}, {"checks", nlohmann::json::array()}};
      const std::string json = dir.write("expected.json", expected.dump());
      const test::CommandResult check =
          test::run_command({HEMEPLM_PYTHON, test::source_file("tests/parallel_io/mdanalysis_check.py"), path,
                             std::to_string(n), json});
      // Without MDAnalysis (H5mdTest.MdanalysisReadsOurFile reports the skip) only our reader is checked.
      if (check.err.find("No module named 'MDAnalysis'") == std::string::npos) {
        EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
      }
    }
  }
}

}  // namespace
}  // namespace hemeplm::parallel_io
