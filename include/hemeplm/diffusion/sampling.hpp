// Per-step math of the reverse-diffusion samplers (model-spec.md (c)): ancestral DDPM with FIXED_LARGE
// variance and DDIM, both over a (possibly respaced) subset of the trained schedule's steps, plus
// counter-based normal draws keyed per (atom, frame, component). Plain float64 on spans: no torch here, so
// the header stays light for callers that only drive the loop.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/span.hpp"

namespace hemeplm::diffusion {

class NoiseSchedule;

enum class SamplerKind { kDdpm, kDdim };

/// "ddpm" | "ddim"; UsageError naming the value otherwise.
SamplerKind parse_sampler_kind(const std::string& name);
const char* to_string(SamplerKind kind);

/// S sampling steps over a trained schedule of S_train steps (S in [1, S_train], UsageError otherwise;
/// eta in [0, 1] for DDIM, UsageError otherwise; eta is unused by DDPM). Timesteps
/// tau_k = round(k * (S_train - 1) / (S - 1)), k = 0..S-1 (tau_0 = 0, tau_{S-1} = S_train - 1: the chain
/// starts at the noisiest trained step; S = 1 gives S_train - 1). Sampling goes k = S-1 down to 0. "Respaced"
/// like improved-DDPM: abar_k = alphas_cumprod[tau_k], abar_prev_k = alphas_cumprod[tau_{k-1}] (1 for k = 0),
/// beta_k = 1 - abar_k / abar_prev_k. Where tau_k - tau_{k-1} == 1 (every k when S == S_train) beta_k is
/// taken from the schedule's betas table, so the DDPM coefficients equal the NoiseSchedule's tables exactly;
/// over a larger gap it is 1 - prod(alphas) over the gap, computed as -expm1(sum log1p(-beta)) to keep small
/// betas accurate.
class SamplingSchedule {
 public:
  SamplingSchedule(const NoiseSchedule& schedule, SamplerKind kind, std::int64_t steps, double eta = 0.0);

  /// S.
  std::int64_t size() const { return static_cast<std::int64_t>(tau_.size()); }
  /// tau_k: the step index fed to the network at sampling step k.
  std::int64_t model_step(std::int64_t k) const;
  double alpha_bar(std::int64_t k) const;
  double alpha_bar_prev(std::int64_t k) const;
  /// beta_k = 1 - abar_k / abar_prev_k.
  double beta(std::int64_t k) const;
  /// Standard deviation of the noise added at sampling step k (0 for k == 0):
  /// DDPM (FIXED_LARGE): sqrt(beta_k) for k >= 1; DDIM: eta * sqrt((1-abar_prev)/(1-abar)) * sqrt(beta_k).
  double noise_scale(std::int64_t k) const;
  /// DDPM posterior-mean coefficients of step k: c1 = beta_k sqrt(abar_prev)/(1-abar),
  /// c2 = (1-abar_prev) sqrt(1-beta_k)/(1-abar).
  double posterior_mean_coef1(std::int64_t k) const;
  double posterior_mean_coef2(std::int64_t k) const;
  SamplerKind kind() const { return kind_; }
  double eta() const { return eta_; }

  /// x0_hat = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps_hat (no clipping).
  /// DDPM: out = c1 x0_hat + c2 x_t + noise_scale(k) z.
  /// DDIM: out = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma z, sigma =
  /// noise_scale(k). z is ignored (and may be empty) when noise_scale(k) == 0. Element-wise; x_t, eps_hat,
  /// out (and z unless empty) of equal size, UsageError otherwise, or when k is outside [0, S). out may alias
  /// x_t or eps_hat.
  void step(std::int64_t k, Span<const double> x_t, Span<const double> eps_hat, Span<const double> z,
            Span<double> out) const;

  /// Where the chain starts: x_T = sqrt(abar_{S-1}) * mean + sqrt(1 - abar_{S-1}) * z. Returns
  /// {sqrt(abar_{S-1}), sqrt(1 - abar_{S-1})} of the noisiest sampling step.
  std::pair<double, double> initial_coefficients() const;

 private:
  struct Step {
    double abar, abar_prev, beta, sigma;
    double x_coef, eps_coef;  // x0_hat = x_coef x_t - eps_coef eps_hat
    double c1, c2;            // DDPM posterior mean
    double ddim_dir;          // DDIM: sqrt(1 - abar_prev - sigma^2)
  };
  const Step& at(std::int64_t k) const;

  SamplerKind kind_;
  double eta_;
  std::vector<std::int64_t> tau_;
  std::vector<Step> steps_;
};

/// Standard normal draws keyed by (keys..., atom id, frame id, component): out[(a * frames + f) * 3 + c] for
/// a < atom_ids.size(), f < frame_ids.size(), c < 3. Each value depends only on (keys, atom_ids[a],
/// frame_ids[f], c), never on the position in the spans, so ranks holding different atom subsets draw
/// identical values for the same atom. Counter-based: h = keyed_seed({keys..., atom, frame}) (computed
/// incrementally), then component c takes outputs 2c and 2c+1 of the SplitMix64 stream started at h as two
/// 53-bit uniforms in (0, 1) and returns one Box–Muller value sqrt(-2 ln u1) cos(2 pi u2).
/// UsageError when out.size() != atoms * frames * 3.
void keyed_normals(std::initializer_list<std::uint64_t> keys, Span<const std::int64_t> atom_ids,
                   Span<const std::int64_t> frame_ids, Span<double> out);

}  // namespace hemeplm::diffusion
