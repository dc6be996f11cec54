// Staggered noise levels across the frames of a window: the rolling (diagonal) sampler's bookkeeping and
// the per-frame noise levels training draws so that a model supports it (docs/sampling.md, "Rolling
// sampler").
//
// The rolling window holds a known (clean) frame 0 and W free frames at positions 1..W. A frame enters at
// position W as pure noise and needs L = m W updates of an L-step sampling schedule (m levels per
// position, m = 1 by default); in the steady state the frame at position j has between (j - 1) m + 1 and
// j m updates left, every model call advances every frame one level, and every m-th call finishes the
// frame at position 1, which becomes the next known frame while a fresh noise frame enters at W.
// Starting from a window of pure noise, (W - 1) m warm-up calls (frame j advances while it has more than
// j m updates left) reach the staircase.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace hemeplm::diffusion {

class RollingWindow {
 public:
  /// W >= 1 free frames, m >= 1 levels per position, all pure noise (L = m W updates left each).
  /// UsageError for W < 1 or m < 1.
  explicit RollingWindow(std::int64_t free_frames, std::int64_t levels_per_frame = 1);

  std::int64_t free_frames() const { return static_cast<std::int64_t>(remaining_.size()); }
  std::int64_t levels_per_frame() const { return per_position_; }
  /// L = m W: the sampling schedule's length.
  std::int64_t levels() const { return per_position_ * free_frames(); }
  /// Updates left for the frame at position j in [1, W].
  std::int64_t remaining(std::int64_t position) const;
  /// The sampling-step index (0 = the last, noise-free update) of the frame's current noise level:
  /// remaining - 1; its model step is SamplingSchedule::model_step of it.
  std::int64_t level(std::int64_t position) const { return remaining(position) - 1; }
  /// Whether the frame at `position` advances in the next call (all do in the steady state; during the
  /// warm-up only those with more than `position` m updates left).
  bool advances(std::int64_t position) const;
  bool warming_up() const { return remaining_.front() > per_position_; }
  /// One model call: every advancing frame loses one update. Returns true when position 1 is finished.
  bool advance();
  /// After a finished position 1: positions move down by one and a pure-noise frame enters at W (L left).
  /// UsageError when position 1 is not finished.
  void shift();

 private:
  std::vector<std::int64_t> remaining_;  // [j - 1] for position j
  std::int64_t per_position_ = 1;
};

/// Per-frame diffusion steps [T] int64 for one training example (known frames [T] bool or undefined;
/// `train_steps` = the schedule's S): known frames get 0. The free frames, in order i = 0..W-1, get with
/// probability 1/4 independent uniform steps in [0, S); otherwise the rolling staircase
/// round((i + u) (S - 1) / (W - 1 + v)) with u, v ~ U[0, 1) (u = v = 0 is the W-level rolling window's
/// steady state; v spans the spacing of windows with more levels per position, (S - 1) / W as m grows),
/// clamped to S - 1, and with probability 1/2 floored at the staircase value of a uniformly drawn free
/// frame c (the warm-up states). A single free frame gets a uniform step.
torch::Tensor draw_frame_steps(const torch::Tensor& known_frames, std::int64_t frames,
                               std::int64_t train_steps, torch::Generator& generator);

}  // namespace hemeplm::diffusion
