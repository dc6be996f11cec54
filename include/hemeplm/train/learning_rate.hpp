// Learning-rate schedule: linear warm-up, then constant, cosine or reduce-on-plateau decay. lr(step) is a
// pure function of the step and (for plateau) of the validation losses reported so far, whose effect is
// the small state that state_json() / restore() carry through a checkpoint exactly.
#pragma once

#include <cstdint>
#include <string>

namespace hemeplm::train {

enum class DecayKind { kConstant, kCosine, kPlateau };

/// "constant" | "cosine" | "plateau"; UsageError otherwise.
DecayKind parse_decay_kind(const std::string& name);
const char* to_string(DecayKind kind);

struct LearningRateOptions {
  double lr = 1e-4;  ///< peak learning rate (> 0)
  /// Linear warm-up (>= 0): for step < warmup_steps, lr(step) = lr * (step + 1) / warmup_steps, i.e.
  /// lr/warmup_steps at step 0 up to lr at step warmup_steps - 1. 0 disables warm-up.
  std::int64_t warmup_steps = 0;
  DecayKind decay = DecayKind::kCosine;
  /// Cosine (>= 1, > warmup_steps for cosine): for warmup_steps <= step <= total_steps,
  /// lr(step) = min_lr + (lr - min_lr) * (1 + cos(pi * (step - warmup_steps) / (total_steps -
  /// warmup_steps))) / 2, so lr at step warmup_steps and min_lr at total_steps; min_lr beyond.
  std::int64_t total_steps = 1;
  double min_lr = 0.0;  ///< floor (>= 0, <= lr) for cosine and plateau
  /// plateau: lr *= factor after `plateau_patience` validations without relative improvement > 1e-4
  /// (loss < best * (1 - 1e-4)); then the count restarts. Never below min_lr. Factor in (0, 1).
  double plateau_factor = 0.8;
  int plateau_patience = 5;  ///< >= 1
};

class LearningRateSchedule {
 public:
  /// UsageError for nonsense (lr <= 0, factor not in (0,1), negative steps, min_lr > lr, ...).
  explicit LearningRateSchedule(const LearningRateOptions& options);
  /// Learning rate for optimizer step `step` (counted from 0; negative is a UsageError).
  /// Warm-up multiplies the (plateau-scaled) value too: plateau lr = max(min_lr, lr * scale) * warm-up.
  double lr(std::int64_t step) const;
  /// Validation loss after some step; only matters for kPlateau (others ignore it). Non-finite losses
  /// count as no improvement.
  void report_validation(double loss);
  const LearningRateOptions& options() const { return options_; }
  double plateau_scale() const { return scale_; }
  /// {"scale": s, "best": b, "bad_count": n} (best is null before the first validation); doubles printed
  /// with 17 significant digits, so restore is exact.
  std::string state_json() const;
  /// UsageError on malformed JSON or missing / mistyped fields.
  void restore(const std::string& state_json);

 private:
  LearningRateOptions options_;
  double scale_ = 1.0;
  double best_;
  bool has_best_ = false;
  int bad_count_ = 0;
};

}  // namespace hemeplm::train
