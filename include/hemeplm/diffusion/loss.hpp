// Forward corruption and the epsilon loss of coordinate DDPM training (model-spec.md (c), steps 2-5),
// plus TorchMD-Net-style EMA smoothing of a loss term.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "hemeplm/diffusion/schedule.hpp"

namespace hemeplm::diffusion {

struct NoisedBatch {
  torch::Tensor
      x0;  ///< [N, T, 3] clean coordinates, CoM-removed per graph over all entries (feed as x_given)
  torch::Tensor
      x_t;  ///< [N, T, 3] noisy free entries (Kabsch-aligned onto x0 when asked), x0 at known entries
  torch::Tensor target;  ///< [N, T, 3] epsilon target (recomputed after the alignment), 0 at known entries
  torch::Tensor free;    ///< [N, T] bool
};

/// model-spec (c) training steps 2-4 for graphs concatenated without padding: x0 [N,T,3] (float32 or
/// float64), graph [N], steps [B] int64 in [0, S), free [N,T] bool, noise [N,T,3] standard normal (caller
/// draws it, keyed). x0 is centred per graph over all entries; the noise is zeroed on known entries and
/// CoM-projected per graph over free entries; x_t = sqrt(abar) x0 + sqrt(1-abar) eps on free entries; with
/// kabsch, x_t's free entries are rigidly aligned onto x0 (per graph, over free entries, no grad) and
/// target = (x_t - sqrt(abar) x0)/sqrt(1-abar) on free entries. Tables in float64, results in x0's dtype.
///
/// The alignment's rotation is the Kabsch rotation onto x0; its translation keeps the free entries'
/// centroid at sqrt(abar) times x0's (where it already is), so the target stays CoM-free over the free
/// entries also when some entries are known. With all entries free this is exactly the spec's alignment.
///
/// Per-frame noise levels: steps [B, T] (one step per graph and frame). The noise is then CoM-projected
/// per graph and frame, and after the joint Kabsch rotation each frame's free centroid is put back at
/// sqrt(abar_f) times x0's, so the target is CoM-free per frame (what the rolling sampler assumes).
NoisedBatch corrupt(const NoiseSchedule& schedule, const torch::Tensor& x0, const torch::Tensor& graph,
                    std::int64_t graph_count, const torch::Tensor& steps, const torch::Tensor& free,
                    const torch::Tensor& noise, bool kabsch = true);

/// Per-graph epsilon loss [B]: eps_hat is the model output over the free FRAMES only ([N, T_free, 3],
/// free_frames [T_free] int64 = the frame indices it covers); it is first CoM-projected per graph over its
/// free entries; then for each graph the weighted mean over free entries (atom i weight atom_weight[i],
/// undefined = 1) of the mean over xyz of (eps_hat - target)^2. Entries with zero total weight in a graph
/// give 0 for that graph (not NaN). Differentiable in eps_hat. Free entries outside free_frames are ignored.
torch::Tensor epsilon_loss(const torch::Tensor& eps_hat, const torch::Tensor& free_frames,
                           const NoisedBatch& batch, const torch::Tensor& graph, std::int64_t graph_count,
                           const torch::Tensor& atom_weight = {});

/// Frame indices not marked in known_frames ([T] bool or undefined = all): int64 [T_free] (CPU).
torch::Tensor free_frame_indices(const torch::Tensor& known_frames, std::int64_t frames);

/// TorchMD-Net-style EMA smoothing of a loss term: returns alpha*loss + (1-alpha)*previous (previous = the
/// last returned value, detached; the first call returns loss unchanged). State is one double so a
/// checkpoint can restore it exactly.
class LossEma {
 public:
  /// alpha in (0, 1], else UsageError.
  explicit LossEma(double alpha = 0.05);
  /// loss: a one-element tensor (UsageError otherwise). Gradient flows through alpha*loss only.
  torch::Tensor apply(const torch::Tensor& loss);
  bool initialised() const { return initialised_; }
  double value() const { return value_; }
  void restore(bool initialised, double value);
  double alpha() const { return alpha_; }

 private:
  double alpha_;
  bool initialised_ = false;
  double value_ = 0.0;
};

}  // namespace hemeplm::diffusion
