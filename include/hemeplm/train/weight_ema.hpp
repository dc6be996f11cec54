// Exponential moving average of the parameters, for validation and sampling with smoothed weights.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::train {

/// Exponential moving average of parameters: shadow = decay*shadow + (1-decay)*param after each
/// optimizer step (decay 0.999 typical). With `warmup` the effective decay is min(decay, (1+n)/(10+n)),
/// n = updates so far (before this one). Shadows start as copies of the parameters. Every parameter
/// passed is tracked (requires_grad or not). UsageError for decay outside [0, 1) and duplicate names.
class WeightEma {
 public:
  WeightEma(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters, double decay,
            bool warmup = true);
  void update();  ///< under NoGradGuard
  std::int64_t updates() const;
  /// The decay the next update() will use.
  double current_decay() const;
  /// Swaps shadow and live values in place (call twice to swap back): validation/sampling with EMA
  /// weights. The parameter tensors keep their identity (optimizers' references stay valid).
  void swap();
  bool swapped() const { return swapped_; }
  const std::vector<std::string>& names() const { return names_; }
  /// "<name>" per parameter (shadow values, even while swapped) plus "updates" (int64 {1}) -- the lead
  /// stores them in the checkpoint's /ema group.
  std::vector<parallel_io::TensorRecord> state_records() const;
  std::vector<parallel_io::TensorSpec> state_specs() const;
  /// All-or-nothing; InputError naming `source_path` listing every problem at once. While swapped, the
  /// loaded shadow values go to where the shadows currently live (the parameters).
  void load_state_records(const std::vector<parallel_io::TensorRecord>& records,
                          const std::string& source_path);

 private:
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> shadows_;
  double decay_;
  bool warmup_;
  std::int64_t updates_ = 0;
  bool swapped_ = false;
};

}  // namespace hemeplm::train
