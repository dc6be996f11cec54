// A hemeplm process started in the background (fork/exec, stdout and stderr to files) that a test can
// poll, wait for or kill, and wait_until() to poll for a condition while it runs: for the tests that
// interrupt a run (SIGKILL, SIGTERM) and resume it. Header-only; POSIX.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace hemeplm::test {

/// A started hemeplm process whose stdout and stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out_file,
        const std::filesystem::path& err_file) {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      exec_in_child(argv, open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
                    open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (reaped_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = status;
      return false;
    }
    return true;
  }
  /// Exit status (128 + signal when killed); -2 after `timeout_seconds` (the child is then killed).
  int wait(int timeout_seconds = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        reaped_ = true;
        return -2;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// Polls until `ready()` or the child ends or `timeout_seconds` pass; true when ready.
template <class Ready>
bool wait_until(Child& child, Ready ready, int timeout_seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    if (!child.running()) return ready();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace hemeplm::test
