#include "hemeplm/parallel_io/dataset_sampler.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "hemeplm/core/error.hpp"

namespace hemeplm::parallel_io {
namespace {

/// SplitMix64 finaliser: spreads (seed, epoch) over the whole 64-bit state so that neighbouring
/// epochs or seeds give unrelated permutations.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Uniform integer in [0, bound) by rejection (bound >= 1). std::uniform_int_distribution is not used
/// because its output differs between standard libraries; this one is the same everywhere.
std::uint64_t uniform_below(std::mt19937_64& generator, std::uint64_t bound) {
  // Values below `threshold` = 2^64 mod bound would make the low residues more likely.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = generator();
    if (r >= threshold) return r % bound;
  }
}

/// FNV-1a over the frame layout: a restore on another dataset (or the same files appended in another
/// order) must be refused, while the source names may move with the files.
std::string trajectories_fingerprint(const std::vector<TrajectoryInfo>& trajectories) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  const auto feed = [&hash](std::int64_t value) {
    for (int byte = 0; byte < 8; ++byte) {
      hash ^= static_cast<std::uint64_t>(value) >> (8 * byte) & 0xFF;
      hash *= 0x100000001b3ULL;
    }
  };
  feed(static_cast<std::int64_t>(trajectories.size()));
  for (const TrajectoryInfo& t : trajectories) {
    feed(t.first_frame);
    feed(t.frame_count);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

ShardedWindowSampler::ShardedWindowSampler(std::vector<TrajectoryInfo> trajectories, int window_frames,
                                           int window_stride, int fragment_count, std::uint64_t seed,
                                           int rank, int ranks)
    : trajectories_(std::move(trajectories)),
      window_frames_(window_frames),
      window_stride_(window_stride),
      fragment_count_(fragment_count),
      seed_(seed),
      rank_(rank),
      ranks_(ranks) {
  if (window_frames_ < 1)
    throw UsageError("window frames must be at least 1, got " + std::to_string(window_frames_));
  if (window_stride_ < 1)
    throw UsageError("window stride must be at least 1, got " + std::to_string(window_stride_));
  if (fragment_count_ < 1)
    throw UsageError("fragment count must be at least 1, got " + std::to_string(fragment_count_));
  if (ranks_ < 1 || rank_ < 0 || rank_ >= ranks_)
    throw UsageError("sampler rank " + std::to_string(rank_) + " is outside 0.." +
                     std::to_string(ranks_ - 1));
  std::int64_t longest = 0;
  for (std::size_t t = 0; t < trajectories_.size(); ++t) {
    const TrajectoryInfo& info = trajectories_[t];
    longest = std::max(longest, info.frame_count);
    // Windows start inside the trajectory and end at or before its last frame: never across a boundary.
    for (std::int64_t start = 0; start + window_frames_ <= info.frame_count; start += window_stride_) {
      window_starts_.push_back(info.first_frame + start);
      window_trajectory_.push_back(static_cast<int>(t));
    }
  }
  if (window_starts_.empty())
    throw UsageError("no training window of " + std::to_string(window_frames_) + " frames: the dataset's " +
                     std::to_string(trajectories_.size()) + " trajectories have at most " +
                     std::to_string(longest) + " frames");
  const std::int64_t total = static_cast<std::int64_t>(window_starts_.size()) * fragment_count_;
  if (total < ranks_)
    throw UsageError("only " + std::to_string(total) + " training samples (windows x fragments) for " +
                     std::to_string(ranks_) +
                     " ranks: use fewer ranks, a smaller window stride or more data");
  shuffle_epoch();
}

void ShardedWindowSampler::shuffle_epoch() {
  const std::uint64_t total = static_cast<std::uint64_t>(window_starts_.size()) * fragment_count_;
  std::mt19937_64 generator(mix64(seed_ ^ mix64(static_cast<std::uint64_t>(epoch_))));
  std::vector<std::int64_t> permutation(total);
  for (std::uint64_t i = 0; i < total; ++i) permutation[i] = static_cast<std::int64_t>(i);
  for (std::uint64_t i = total - 1; i > 0; --i)
    std::swap(permutation[i], permutation[uniform_below(generator, i + 1)]);
  // The tail (total mod ranks elements) is dropped so every rank takes the same number of steps per
  // epoch; it differs from epoch to epoch, so no sample is skipped for good.
  const std::uint64_t per_rank = total / static_cast<std::uint64_t>(ranks_);
  order_.resize(per_rank);
  for (std::uint64_t k = 0; k < per_rank; ++k)
    order_[k] = permutation[k * static_cast<std::uint64_t>(ranks_) + static_cast<std::uint64_t>(rank_)];
}

WindowSample ShardedWindowSampler::next() {
  if (index_ >= static_cast<std::int64_t>(order_.size())) {
    ++epoch_;
    index_ = 0;
    shuffle_epoch();
  }
  const std::int64_t element = order_[static_cast<std::size_t>(index_++)];
  const std::size_t window = static_cast<std::size_t>(element / fragment_count_);
  WindowSample sample;
  sample.trajectory = window_trajectory_[window];
  sample.first_frame = window_starts_[window];
  sample.fragment = static_cast<int>(element % fragment_count_);
  return sample;
}

std::int64_t ShardedWindowSampler::samples_per_epoch() const {
  return static_cast<std::int64_t>(order_.size());
}

std::int64_t ShardedWindowSampler::epoch() const {
  return epoch_;
}

std::string ShardedWindowSampler::position_json() const {
  const nlohmann::json position = {{"epoch", epoch_},
                                   {"index", index_},
                                   {"seed", seed_},
                                   {"rank", rank_},
                                   {"ranks", ranks_},
                                   {"window_frames", window_frames_},
                                   {"window_stride", window_stride_},
                                   {"fragment_count", fragment_count_},
                                   {"trajectories", trajectories_fingerprint(trajectories_)}};
  return position.dump();
}

void ShardedWindowSampler::restore(const std::string& position_json) {
  nlohmann::json position;
  try {
    position = nlohmann::json::parse(position_json);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(one_line(std::string("data-loader position is not valid JSON: ") + e.what()));
  }
  if (!position.is_object()) throw UsageError("data-loader position is not a JSON object");
  const auto field = [&position](const char* key) -> const nlohmann::json& {
    const auto it = position.find(key);
    if (it == position.end()) throw UsageError(std::string("data-loader position lacks '") + key + "'");
    return *it;
  };
  try {
    const auto must_match = [&field](const char* key, const auto& ours, const char* advice) {
      using T = std::decay_t<decltype(ours)>;
      const T saved = field(key).template get<T>();
      if (saved != ours) {
        nlohmann::json saved_json = saved, ours_json = ours;
        throw UsageError(std::string("cannot resume the data loader: it was recorded with ") + key + " " +
                         saved_json.dump() + ", this run has " + key + " " + ours_json.dump() + advice);
      }
    };
    must_match("seed", seed_, " (use the seed of the run being resumed)");
    must_match("ranks", ranks_, " (resume with the same number of ranks)");
    must_match("rank", rank_, "");
    must_match("window_frames", window_frames_, "");
    must_match("window_stride", window_stride_, "");
    must_match("fragment_count", fragment_count_, "");
    must_match("trajectories", trajectories_fingerprint(trajectories_),
               " (the dataset's trajectories differ from the run being resumed)");
    const std::int64_t epoch = field("epoch").get<std::int64_t>();
    const std::int64_t index = field("index").get<std::int64_t>();
    if (epoch < 0 || index < 0 || index > samples_per_epoch())
      throw UsageError("data-loader position epoch " + std::to_string(epoch) + ", index " +
                       std::to_string(index) + " is outside this dataset's " +
                       std::to_string(samples_per_epoch()) + " samples per epoch");
    epoch_ = epoch;
    shuffle_epoch();
    index_ = index;
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(
        one_line(std::string("data-loader position has a field of the wrong type: ") + e.what()));
  }
}

}  // namespace hemeplm::parallel_io
