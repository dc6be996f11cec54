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

/// Exit status of the project's plotting scripts (tools/*.py) when numpy or matplotlib cannot be imported.
inline constexpr int kPlotStackMissing = 3;

/// A script of the project's tools/ folder: $`env_var` when set, else <prefix>/share/hemeplm/`name` beside
/// the installed program, else the source tree's tools/`name`; "" when none exists.
std::string find_tool_script(const std::string& name, const char* env_var);

/// The interpreter for those scripts: `requested`, else /usr/bin/python3 (Debian's matplotlib and pymol
/// belong to it; a pyenv or conda python3 earlier in PATH would hide them), else python3 from PATH.
std::string python_interpreter(const std::string& requested);

/// Whether `path` is a regular file (false on any error, e.g. no permission to look).
bool is_file(const std::string& path);

/// The last non-empty line of a text, trimmed.
std::string last_nonempty_line(const std::string& text);

}  // namespace hemeplm::evaluate
