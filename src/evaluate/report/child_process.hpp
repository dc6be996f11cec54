// Running a helper program (a plotting script, pymol) as a child process without a shell, collecting
// its output: a missing program is a result, not an exception.
#pragma once

#include <string>
#include <vector>

namespace hemeplm::evaluate {

struct ChildResult {
  int spawn_error = 0;  ///< errno of posix_spawnp; 0 when the child ran
  int exit_status = -1;
  std::string out, err;
};

/// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and stdout/stderr collected. With a
/// non-empty `path_prefix`, the child's PATH (and the lookup of argv[0]) is path_prefix:$PATH.
ChildResult run_child_process(const std::vector<std::string>& argv, const std::string& path_prefix = "");

/// The last non-empty line of a text, trimmed.
std::string last_nonempty_line(const std::string& text);

}  // namespace hemeplm::evaluate
