// DDPM noise schedules over coordinates (model-spec.md (c)): the float64 tables that the forward
// corruption and the ancestral sampler index by diffusion step.
#pragma once

#include <torch/types.h>

#include <string>

namespace hemeplm::diffusion {

enum class ScheduleKind { kLinear, kCosine };

/// "linear" | "cosine"; UsageError otherwise.
ScheduleKind parse_schedule_kind(const std::string& name);
const char* to_string(ScheduleKind kind);

/// float64 CPU tables of length steps() (model-spec (c)): linear = scaled linear beta
/// linspace(s*1e-4, s*0.02, T), s = 1000/T; cosine = Nichol & Dhariwal (s = 0.008, beta clipped to 0.999).
/// Index t = 0 .. T-1 is diffusion step t+1 of the paper (betas()[0] = beta_1).
class NoiseSchedule {
 public:
  /// steps >= 1, else UsageError.
  NoiseSchedule(ScheduleKind kind, int steps);

  int steps() const { return steps_; }
  ScheduleKind kind() const { return kind_; }

  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas() const { return alphas_; }
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }
  /// [1, abar_0 .. abar_{T-2}].
  const torch::Tensor& alphas_cumprod_prev() const { return alphas_cumprod_prev_; }
  const torch::Tensor& sqrt_alphas_cumprod() const { return sqrt_alphas_cumprod_; }
  const torch::Tensor& sqrt_one_minus_alphas_cumprod() const { return sqrt_one_minus_alphas_cumprod_; }
  const torch::Tensor& sqrt_recip_alphas_cumprod() const { return sqrt_recip_alphas_cumprod_; }
  const torch::Tensor& sqrt_recipm1_alphas_cumprod() const { return sqrt_recipm1_alphas_cumprod_; }
  /// beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t).
  const torch::Tensor& posterior_variance() const { return posterior_variance_; }
  /// c1 = beta_t sqrt(abar_{t-1}) / (1 - abar_t).
  const torch::Tensor& posterior_mean_coef1() const { return posterior_mean_coef1_; }
  /// c2 = (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t).
  const torch::Tensor& posterior_mean_coef2() const { return posterior_mean_coef2_; }

  /// table[steps] gathered per graph and broadcast per atom: returns [N, 1, 1] float64 for steps [B] int64
  /// and graph [N] int64, on graph's device; [N, T, 1] for per-frame steps [B, T].
  torch::Tensor per_atom(const torch::Tensor& table, const torch::Tensor& steps,
                         const torch::Tensor& graph) const;

 private:
  ScheduleKind kind_;
  int steps_;
  torch::Tensor betas_, alphas_, alphas_cumprod_, alphas_cumprod_prev_, sqrt_alphas_cumprod_,
      sqrt_one_minus_alphas_cumprod_, sqrt_recip_alphas_cumprod_, sqrt_recipm1_alphas_cumprod_,
      posterior_variance_, posterior_mean_coef1_, posterior_mean_coef2_;
};

}  // namespace hemeplm::diffusion
