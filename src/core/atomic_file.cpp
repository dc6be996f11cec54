#include "hemeplm/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {

/// Closes the descriptor and removes the temporary file unless released.
class TemporaryFile {
 public:
  TemporaryFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int close_fd() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_;
  bool released_ = false;
};

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents) {
  const std::filesystem::path target(path);
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : ".";
  std::string pattern = (folder / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw InputError(path, std::string("cannot create output file: ") + std::strerror(errno));
  TemporaryFile tmp(pattern, fd);

  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(tmp.fd(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError(path, std::string("cannot write output file: ") + std::strerror(errno));
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  // The data must be on disk before the rename makes it visible, or a crash could expose an empty file.
  if (::fsync(tmp.fd()) != 0 || tmp.close_fd() != 0)
    throw InputError(path, std::string("cannot flush output file: ") + std::strerror(errno));
  ::chmod(tmp.path().c_str(), 0644);
  if (std::rename(tmp.path().c_str(), path.c_str()) != 0)
    throw InputError(path, std::string("cannot replace output file: ") + std::strerror(errno));
  tmp.release();
}

}  // namespace hemeplm
