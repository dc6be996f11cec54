// Runs tools/evaluate_plots.py as a child process (posix_spawn, no shell) and turns an absent or failing
// plotting stack into PlotResult::missing instead of an error: the metrics stand without plots.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "hemeplm/evaluate/report.hpp"

extern char** environ;

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;

// Exit status of evaluate_plots.py when numpy or matplotlib cannot be imported.
constexpr int kPlotStackMissing = 3;

struct ChildOutput {
  int spawn_error = 0;  // errno of posix_spawnp; 0 when the child ran
  int exit_status = -1;
  std::string out;
  std::string err;
};

/// Owns a pipe's two descriptors; closes what is still open.
class Pipe {
 public:
  Pipe() {
    if (pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

/// Owns posix_spawn's file actions.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

/// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null; collects stdout and stderr.
ChildOutput run_child(const std::vector<std::string>& argv) {
  ChildOutput result;
  Pipe out, err;
  if (!out.ok() || !err.ok()) {
    result.spawn_error = errno;
    return result;
  }
  FileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out.write_end(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err.write_end(), 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), environ);
  out.close_write();
  err.close_write();
  if (spawned != 0) {
    result.spawn_error = spawned;
    return result;
  }
  // Both pipes are drained together so that a chatty stderr cannot block the child on a full stdout.
  pollfd fds[2] = {{out.read_end(), POLLIN, 0}, {err.read_end(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[k].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[k]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

/// The last non-empty line of a text, trimmed.
std::string last_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    last = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
  }
  return last;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::string find_plot_script() {
  if (const char* env = std::getenv("HEMEPLM_PLOT_SCRIPT"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path() / ".." / "share" / "hemeplm" / "evaluate_plots.py";
    if (is_file(installed)) return fs::weakly_canonical(installed, ec).string();
  }
#ifdef HEMEPLM_SOURCE_PLOT_SCRIPT
  if (is_file(HEMEPLM_SOURCE_PLOT_SCRIPT)) return HEMEPLM_SOURCE_PLOT_SCRIPT;
#endif
  return "";
}

PlotResult run_plot_script(const std::string& out_dir, const std::string& python, std::ostream& log) {
  PlotResult result;
  const std::string script = find_plot_script();
  if (script.empty()) {
    result.missing =
        "the plotting script evaluate_plots.py was not found (install hemeplm or set HEMEPLM_PLOT_SCRIPT)";
  } else if (!is_file(script)) {
    result.missing = "the plotting script " + script + " does not exist (HEMEPLM_PLOT_SCRIPT)";
  }
  if (!result.missing.empty()) {
    log << "plots: none: " << result.missing << '\n';
    return result;
  }
  // Debian's python3-matplotlib belongs to /usr/bin/python3, which a pyenv or conda python3 earlier in
  // PATH would hide; PATH's python3 is the fallback where there is no system interpreter.
  std::string interpreter = python;
  if (interpreter.empty()) interpreter = is_file("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  log << "plots: " << interpreter << ' ' << script << ' ' << out_dir << '\n';

  const ChildOutput child = run_child({interpreter, script, out_dir});
  if (child.spawn_error != 0 || child.exit_status == 127) {
    result.missing = interpreter + " not found" +
                     (child.spawn_error != 0 && child.spawn_error != ENOENT
                          ? " (" + std::string(std::strerror(child.spawn_error)) + ")"
                          : std::string());
  } else if (child.exit_status == kPlotStackMissing) {
    result.missing = "matplotlib is not installed (apt-get install python3-matplotlib)";
  } else if (child.exit_status != 0) {
    const std::string why = last_line(child.err);
    result.missing = "the plotting script failed: " +
                     (why.empty() ? "exit status " + std::to_string(child.exit_status) : why);
  } else {
    // The last stdout line is the script's JSON summary; the lines before it name each plot.
    const auto summary = nlohmann::json::parse(last_line(child.out), nullptr, false);
    if (summary.is_discarded() || !summary.is_object() || !summary.contains("written") ||
        !summary["written"].is_array()) {
      result.missing = "the plotting script failed: its last output line is not the JSON summary";
    } else {
      for (const auto& path : summary["written"])
        if (path.is_string()) result.written.push_back(path.get<std::string>());
      if (summary.contains("skipped") && summary["skipped"].is_object())
        for (const auto& [name, why] : summary["skipped"].items())
          log << "plots: skipped " << name << ": " << (why.is_string() ? why.get<std::string>() : why.dump())
              << '\n';
    }
  }
  for (const auto& path : result.written) log << "plots: wrote " << path << '\n';
  if (!result.missing.empty()) log << "plots: none: " << result.missing << '\n';
  return result;
}

}  // namespace hemeplm::evaluate
