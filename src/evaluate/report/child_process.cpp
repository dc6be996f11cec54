// posix_spawn with pipes for stdout and stderr, both drained together so that a chatty stderr cannot
// block the child on a full stdout pipe.
#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

extern char** environ;

namespace hemeplm::evaluate {
namespace {

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

/// posix_spawnp searches the parent's PATH, so a changed PATH needs the search done here.
std::string find_in_path(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return program;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

}  // namespace

ChildResult run_child_process(const std::vector<std::string>& argv, const std::string& path_prefix) {
  ChildResult result;
  if (argv.empty()) {
    result.spawn_error = EINVAL;
    return result;
  }
  Pipe out, err;
  if (!out.ok() || !err.ok()) {
    result.spawn_error = errno;
    return result;
  }
  FileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out.write_end(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err.write_end(), 2);

  std::vector<std::string> args = argv;
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e)
    if (path_prefix.empty() || std::strncmp(*e, "PATH=", 5) != 0) environment.emplace_back(*e);
  if (!path_prefix.empty()) {
    const char* old_path = std::getenv("PATH");
    const std::string path = path_prefix + (old_path && *old_path ? ":" + std::string(old_path) : "");
    environment.push_back("PATH=" + path);
    args[0] = find_in_path(args[0], path);
  }
  std::vector<char*> arg_pointers, env_pointers;
  for (auto& a : args) arg_pointers.push_back(a.data());
  arg_pointers.push_back(nullptr);
  for (auto& e : environment) env_pointers.push_back(e.data());
  env_pointers.push_back(nullptr);

  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, arg_pointers[0], actions.get(), nullptr, arg_pointers.data(), env_pointers.data());
  out.close_write();
  err.close_write();
  if (spawned != 0) {
    result.spawn_error = spawned;
    return result;
  }
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

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::string find_tool_script(const std::string& name, const char* env_var) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv(env_var); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path() / ".." / "share" / "hemeplm" / name;
    if (is_file(installed)) return fs::weakly_canonical(installed, ec).string();
  }
#ifdef HEMEPLM_SOURCE_TOOLS_DIR
  const fs::path source = fs::path(HEMEPLM_SOURCE_TOOLS_DIR) / name;
  if (is_file(source)) return source.string();
#endif
  return "";
}

std::string python_interpreter(const std::string& requested) {
  if (!requested.empty()) return requested;
  return is_file("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

std::string last_nonempty_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    last = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
  }
  return last;
}

}  // namespace hemeplm::evaluate
