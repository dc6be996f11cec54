// Helpers shared by the test suites: paths to real input files, temporary folders, running the
// hemeplm binary as a user would.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace hemeplm::test {

/// ../shared/data/<name>; empty when the folder or file is absent (use HEMEPLM_REQUIRE_SHARED_DATA).
std::string shared_data(const std::string& name);

/// A file of the repository, e.g. source_file("inputs/example/complex.pdb").
std::string source_file(const std::string& relative);

/// Skips the current test with a clear message when a ../shared/data file is absent.
#define HEMEPLM_REQUIRE_SHARED_DATA(var, name)                \
  const std::string var = ::hemeplm::test::shared_data(name); \
  if (var.empty()) GTEST_SKIP() << "../shared/data/" << (name) << " is absent: test needs it"

/// A fresh temporary folder, removed with its contents when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  /// Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

/// Reads a whole file; throws std::runtime_error if it cannot.
std::string read_text(const std::string& path);

struct CommandResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};

/// Runs argv (argv[0] is an executable path) with stdin closed; captures stdout and stderr. The child
/// gets OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1 unless set, so mpiexec also runs where tests run as root.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_seconds = 120);

/// In a forked child: stdin from /dev/null, stdout/stderr to the given descriptors (closed after the
/// dup), OpenMPI's root override set, then execv(argv); exits 127 if exec fails. Never returns.
[[noreturn]] void exec_in_child(const std::vector<std::string>& argv, int out_fd, int err_fd);

/// Path of the built hemeplm binary.
std::string hemeplm_binary();

}  // namespace hemeplm::test
