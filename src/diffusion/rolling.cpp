#include "hemeplm/diffusion/rolling.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "hemeplm/core/error.hpp"

namespace hemeplm::diffusion {

RollingWindow::RollingWindow(std::int64_t free_frames, std::int64_t levels_per_frame)
    : per_position_(levels_per_frame) {
  if (free_frames < 1)
    throw UsageError("rolling window needs at least one free frame (got " + std::to_string(free_frames) +
                     ")");
  if (levels_per_frame < 1)
    throw UsageError("rolling window needs at least one level per frame (got " +
                     std::to_string(levels_per_frame) + ")");
  remaining_.assign(static_cast<std::size_t>(free_frames), free_frames * levels_per_frame);
}

std::int64_t RollingWindow::remaining(std::int64_t position) const {
  if (position < 1 || position > free_frames())
    throw UsageError("rolling window position " + std::to_string(position) + " outside [1, " +
                     std::to_string(free_frames()) + "]");
  return remaining_[static_cast<std::size_t>(position - 1)];
}

bool RollingWindow::advances(std::int64_t position) const {
  const auto r = remaining(position);
  return warming_up() ? r > position * per_position_ : r > 0;
}

bool RollingWindow::advance() {
  std::vector<char> moving(remaining_.size());
  for (std::size_t j = 0; j < remaining_.size(); ++j) moving[j] = advances(static_cast<std::int64_t>(j) + 1);
  for (std::size_t j = 0; j < remaining_.size(); ++j)
    if (moving[j]) --remaining_[j];
  return remaining_.front() == 0;
}

void RollingWindow::shift() {
  if (remaining_.front() != 0) throw UsageError("rolling window: shift before the first frame is finished");
  std::rotate(remaining_.begin(), remaining_.begin() + 1, remaining_.end());
  remaining_.back() = levels();
}

torch::Tensor draw_frame_steps(const torch::Tensor& known_frames, std::int64_t frames,
                               std::int64_t train_steps, torch::Generator& generator) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto steps = torch::zeros({frames}, torch::TensorOptions().dtype(torch::kInt64));
  std::vector<std::int64_t> free;
  for (std::int64_t f = 0; f < frames; ++f)
    if (!known_frames.defined() || !known_frames[f].item<bool>()) free.push_back(f);
  const auto w = static_cast<std::int64_t>(free.size());
  if (w == 0) return steps;
  // Every draw is made whichever branch is taken, so the generator advances the same way for all examples.
  const auto u = torch::rand({5}, generator, f64);
  const auto independent =
      torch::randint(train_steps, {w}, generator, torch::TensorOptions().dtype(torch::kInt64));
  const double top = static_cast<double>(train_steps - 1);
  const auto stair = [&](double i) {
    const double spacing = top / (static_cast<double>(w - 1) + u[4].item<double>());
    const double level = w > 1 ? std::round((i + u[1].item<double>()) * spacing) : 0.0;
    return static_cast<std::int64_t>(std::min(level, top));
  };
  const bool uniform = w == 1 || u[0].item<double>() < 0.25;
  const bool floored = u[2].item<double>() < 0.5;
  const auto floor_at = stair(std::floor(u[3].item<double>() * static_cast<double>(w)));
  for (std::int64_t i = 0; i < w; ++i) {
    std::int64_t step = independent[i].item<std::int64_t>();
    if (!uniform)
      step = floored ? std::max(stair(static_cast<double>(i)), floor_at) : stair(static_cast<double>(i));
    steps[free[static_cast<std::size_t>(i)]] = step;
  }
  return steps;
}

}  // namespace hemeplm::diffusion
