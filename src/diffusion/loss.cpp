#include "hemeplm/diffusion/loss.hpp"

#include <torch/utils.h>

#include <cmath>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/geometry.hpp"

namespace hemeplm::diffusion {
namespace {

/// remove_center_of_mass for each frame separately: per graph and frame, the mean over the graph's
/// selected atoms of that frame.
torch::Tensor remove_center_of_mass_per_frame(const torch::Tensor& x, const torch::Tensor& graph,
                                              std::int64_t graph_count, const torch::Tensor& entries) {
  std::vector<torch::Tensor> frames;
  for (std::int64_t f = 0; f < x.size(1); ++f)
    frames.push_back(remove_center_of_mass(x.narrow(1, f, 1), graph, graph_count, entries.narrow(1, f, 1)));
  return torch::cat(frames, 1);
}

}  // namespace

NoisedBatch corrupt(const NoiseSchedule& schedule, const torch::Tensor& x0, const torch::Tensor& graph,
                    std::int64_t graph_count, const torch::Tensor& steps, const torch::Tensor& free,
                    const torch::Tensor& noise, bool kabsch) {
  if (!x0.defined() || x0.dim() != 3 || x0.size(2) != 3) {
    throw UsageError("diffusion corruption: coordinates must be [atoms, frames, 3]");
  }
  if (!noise.defined() || noise.sizes() != x0.sizes()) {
    throw UsageError("diffusion corruption: noise must have the shape of the coordinates");
  }
  if (!free.defined() || free.dim() != 2 || free.size(0) != x0.size(0) || free.size(1) != x0.size(1)) {
    throw UsageError("diffusion corruption: free-entry mask must be [atoms, frames]");
  }
  const bool per_frame = steps.defined() && steps.dim() == 2;
  if (!steps.defined() || (steps.dim() != 1 && !per_frame) || steps.size(0) != graph_count ||
      (per_frame && steps.size(1) != x0.size(1))) {
    throw UsageError(
        "diffusion corruption: steps must hold one diffusion step per graph, or per graph and frame");
  }
  if (graph_count > 0) {
    const auto lo = steps.min().item<std::int64_t>();
    const auto hi = steps.max().item<std::int64_t>();
    if (lo < 0 || hi >= schedule.steps()) {
      throw UsageError("diffusion corruption: steps must lie in [0, " + std::to_string(schedule.steps()) +
                       ") (got " + std::to_string(lo) + " .. " + std::to_string(hi) + ")");
    }
  }
  const auto dtype = x0.scalar_type();
  // Everything in float64 up to the final cast: sqrt(1 - abar) is ~1e-2 at t = 0 and the target divides by
  // it.
  const auto x0d = remove_center_of_mass(x0.to(torch::kFloat64), graph, graph_count);
  const auto mask = free.to(x0.device(), torch::kBool);
  const auto maskx = mask.unsqueeze(-1);
  // Known entries carry no noise; the CoM projection over the free entries alone keeps them at zero.
  auto eps = noise.to(x0.device(), torch::kFloat64) * maskx.to(torch::kFloat64);
  eps = per_frame ? remove_center_of_mass_per_frame(eps, graph, graph_count, mask)
                  : remove_center_of_mass(eps, graph, graph_count, mask);
  const auto sa = schedule.per_atom(schedule.sqrt_alphas_cumprod(), steps, graph).to(x0.device());
  const auto s1 = schedule.per_atom(schedule.sqrt_one_minus_alphas_cumprod(), steps, graph).to(x0.device());
  const auto signal = sa * x0d;
  auto x_t = torch::where(maskx, signal + s1 * eps, x0d);
  auto target = eps;
  if (kabsch) {
    // Rotation: Kabsch onto x0 (scaling the target by sqrt(abar) > 0 leaves it unchanged). Translation: onto
    // sqrt(abar) x0's free centroid, which is where x_t's already is; aligning onto x0 itself would shift it
    // by (1 - sqrt(abar)) x0's free centroid and give the target a CoM the CoM-free eps_hat cannot match.
    auto aligned = kabsch_align(x_t, signal, graph, graph_count, mask);
    if (per_frame) {
      // The joint rotation moves each frame's centroid a little; put every frame's free centroid back at
      // sqrt(abar_f) times x0's, so the target stays CoM-free per frame as the noise was drawn.
      aligned = signal + remove_center_of_mass_per_frame(aligned - signal, graph, graph_count, mask);
    }
    x_t = torch::where(maskx, aligned, x0d);
    target = torch::where(maskx, (x_t - signal) / s1, torch::zeros_like(x_t));
  }
  NoisedBatch batch;
  batch.x0 = x0d.to(dtype);
  batch.x_t = x_t.to(dtype);
  batch.target = target.to(dtype);
  batch.free = mask;
  return batch;
}

torch::Tensor epsilon_loss(const torch::Tensor& eps_hat, const torch::Tensor& free_frames,
                           const NoisedBatch& batch, const torch::Tensor& graph, std::int64_t graph_count,
                           const torch::Tensor& atom_weight) {
  if (!batch.target.defined() || !batch.free.defined()) {
    throw UsageError("epsilon loss: the noised batch is empty");
  }
  if (!free_frames.defined() || free_frames.dim() != 1) {
    throw UsageError("epsilon loss: free frames must be a 1-d index tensor");
  }
  const auto atoms = batch.target.size(0);
  if (!eps_hat.defined() || eps_hat.dim() != 3 || eps_hat.size(0) != atoms ||
      eps_hat.size(1) != free_frames.size(0) || eps_hat.size(2) != 3) {
    throw UsageError("epsilon loss: model output must be [atoms, free frames, 3]");
  }
  if (atom_weight.defined() && (atom_weight.dim() != 1 || atom_weight.size(0) != atoms)) {
    throw UsageError("epsilon loss: atom weights must have one entry per atom");
  }
  const auto device = eps_hat.device();
  const auto dtype = eps_hat.scalar_type();
  const auto frames = free_frames.to(device, torch::kLong);
  const auto free = batch.free.to(device).index_select(1, frames);             // [N, Tf]
  const auto target = batch.target.to(device, dtype).index_select(1, frames);  // [N, Tf, 3]
  const auto g = graph.to(device, torch::kLong);
  const auto projected = remove_center_of_mass(eps_hat, g, graph_count, free);
  const auto per_entry = (projected - target).pow(2).mean(-1);  // [N, Tf]
  auto w = free.to(dtype);
  if (atom_weight.defined()) w = w * atom_weight.to(device, dtype).unsqueeze(1);
  const auto opts = eps_hat.options();
  const auto num = torch::zeros({graph_count}, opts).index_add(0, g, (per_entry * w).sum(1));
  const auto den = torch::zeros({graph_count}, opts).index_add(0, g, w.sum(1));
  const auto has_weight = den > 0;
  // Divide by 1 where there is no weight so that neither the value nor its gradient is NaN.
  const auto safe = torch::where(has_weight, den, torch::ones_like(den));
  return torch::where(has_weight, num / safe, torch::zeros_like(num));
}

torch::Tensor free_frame_indices(const torch::Tensor& known_frames, std::int64_t frames) {
  const auto opts = torch::TensorOptions().dtype(torch::kLong);
  if (!known_frames.defined()) return torch::arange(frames, opts);
  if (known_frames.dim() != 1 || known_frames.size(0) != frames) {
    throw UsageError("known-frame mask must have one entry per frame (" + std::to_string(frames) + ")");
  }
  return torch::nonzero(known_frames.to(torch::kCPU, torch::kBool).logical_not()).squeeze(1);
}

LossEma::LossEma(double alpha) : alpha_(alpha) {
  if (!(alpha > 0.0 && alpha <= 1.0)) {
    throw UsageError("loss EMA alpha must lie in (0, 1] (got " + std::to_string(alpha) + ")");
  }
}

torch::Tensor LossEma::apply(const torch::Tensor& loss) {
  if (!loss.defined() || loss.numel() != 1) throw UsageError("loss EMA needs a single-valued loss");
  if (!initialised_) {
    initialised_ = true;
    value_ = loss.detach().item<double>();
    return loss;
  }
  auto smoothed = alpha_ * loss + (1.0 - alpha_) * value_;
  value_ = smoothed.detach().item<double>();
  return smoothed;
}

void LossEma::restore(bool initialised, double value) {
  initialised_ = initialised;
  value_ = initialised ? value : 0.0;
}

}  // namespace hemeplm::diffusion
