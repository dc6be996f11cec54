#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "checkpoint_hdf5.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::parallel_io {

namespace fs = std::filesystem;

namespace {

/// Step of "<prefix>-<digits>.h5", or -1 for any other name (temporary files start with '.').
std::int64_t step_of(const std::string& filename, const std::string& prefix) {
  const std::string head = prefix + "-", tail = ".h5";
  if (filename.size() < head.size() + tail.size() + 1 || filename.compare(0, head.size(), head) != 0 ||
      filename.compare(filename.size() - tail.size(), tail.size(), tail) != 0)
    return -1;
  const std::string digits = filename.substr(head.size(), filename.size() - head.size() - tail.size());
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

/// (step, path) of the folder's checkpoints, newest first.
std::vector<std::pair<std::int64_t, std::string>> list_checkpoints(const std::string& folder,
                                                                   const std::string& prefix) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::int64_t step = step_of(it->path().filename().string(), prefix);
    if (step >= 0) found.emplace_back(step, it->path().string());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a > b; });
  return found;
}

}  // namespace

CheckpointDirectory::CheckpointDirectory(std::string folder, std::string prefix, int keep)
    : folder_(std::move(folder)), prefix_(std::move(prefix)), keep_(keep) {
  if (keep_ < 1) throw UsageError("checkpoints to keep must be at least 1, got " + std::to_string(keep_));
  if (prefix_.empty() || prefix_.find('/') != std::string::npos || prefix_[0] == '.')
    throw UsageError("checkpoint prefix '" + prefix_ + "' must be a plain file name start");
  if (folder_.empty()) folder_ = ".";
}

std::string CheckpointDirectory::save(const Checkpoint& checkpoint) const {
  if (checkpoint.step < 0)
    throw UsageError("checkpoint step must not be negative, got " + std::to_string(checkpoint.step));
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) throw InputError(folder_, "cannot create checkpoint folder: " + ec.message());
  char digits[32];
  std::snprintf(digits, sizeof digits, "%09lld", static_cast<long long>(checkpoint.step));
  const std::string path = (fs::path(folder_) / (prefix_ + "-" + digits + ".h5")).string();
  write_checkpoint(path, checkpoint);

  // Rotation never removes the file just written, even when files of later steps exist (a run
  // restarted from an older checkpoint); failing to remove an old file does not fail the save.
  std::int64_t kept = 1;
  for (const auto& [step, other] : list_checkpoints(folder_, prefix_)) {
    if (other == path) continue;
    if (kept < keep_) {
      ++kept;
    } else {
      fs::remove(other, ec);
    }
  }
  // Temporary files of a writer that was killed (SIGKILL, node failure) would otherwise pile up.
  const std::string stale_head = "." + prefix_ + "-";
  std::error_code list_ec;
  for (fs::directory_iterator it(folder_, list_ec), end; !list_ec && it != end; it.increment(list_ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, stale_head.size(), stale_head) == 0 && name.find(".h5.tmp.") != std::string::npos)
      fs::remove(it->path(), ec);
  }
  return path;
}

std::string CheckpointDirectory::latest() const {
  // A damaged newest file (disk full, hand-edited) must not block resuming from an older one.
  for (const auto& [step, path] : list_checkpoints(folder_, prefix_))
    if (checkpoint_detail::opens_as_checkpoint(path)) return path;
  return {};
}

}  // namespace hemeplm::parallel_io
