// AdamW with checkpointable state, plus gradient clipping and finiteness checks. The optimizer is our
// own rather than torch::optim::AdamW so that its state is a flat list of named raw tensors (the I/O
// layer's checkpoint records) and its arithmetic is the same whatever the LibTorch version.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

/// AdamW (decoupled weight decay, Loshchilov & Hutter), update for update the same as torch.optim.AdamW
/// with amsgrad off, foreach off:
///   step += 1; p *= 1 - lr*wd; m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g*g;
///   p -= lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps).
/// Parameters whose grad is undefined are skipped (no decay, no moment update, per-parameter step not
/// advanced). UsageError for options outside torch's accepted ranges (betas in [0,1), eps >= 0,
/// weight_decay >= 0) and for duplicate or empty names.
class AdamW {
 public:
  /// Only parameters with requires_grad are kept (names are the module-tree names, unique).
  AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters,
        const AdamWOptions& options = {});
  /// One update with learning rate `lr` (>= 0), under NoGradGuard.
  void step(double lr);
  /// Sets grads undefined (like set_to_none=True).
  void zero_grad();
  const std::vector<std::string>& names() const;
  std::vector<torch::Tensor> parameters() const;  ///< same order as names()
  const AdamWOptions& options() const { return options_; }
  /// "exp_avg/<name>", "exp_avg_sq/<name>" (parameter dtype/shape) and "step/<name>" (int64, shape {1})
  /// for every parameter, in names() order.
  std::vector<parallel_io::TensorRecord> state_records() const;
  /// Names, dtypes and shapes state_records() produces, without copying data.
  std::vector<parallel_io::TensorSpec> state_specs() const;
  /// All-or-nothing restore; InputError naming `source_path` and listing every missing/unexpected/
  /// mis-shaped record at once (the optimizer is unchanged then).
  void load_state_records(const std::vector<parallel_io::TensorRecord>& records,
                          const std::string& source_path);

 private:
  struct Slot {
    std::string name;
    torch::Tensor param;
    torch::Tensor exp_avg;
    torch::Tensor exp_avg_sq;
    std::int64_t step = 0;
  };
  std::vector<Slot> slots_;
  std::vector<std::string> names_;
  AdamWOptions options_;
};

/// Total L2 norm (float64) of the defined grads; when it exceeds max_norm (> 0) every grad is scaled by
/// max_norm/(norm+1e-6) like torch.nn.utils.clip_grad_norm_. Returns the norm before clipping (may be
/// inf/nan: then grads are left untouched). max_norm <= 0 only computes the norm.
double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

/// True when every defined grad is finite.
bool gradients_finite(const std::vector<torch::Tensor>& parameters);

}  // namespace hemeplm::train
