#include "hemeplm/diffusion/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::diffusion {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "linear") return ScheduleKind::kLinear;
  if (name == "cosine") return ScheduleKind::kCosine;
  throw UsageError("unknown noise schedule '" + name + "' (expected 'linear' or 'cosine')");
}

const char* to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kLinear:
      return "linear";
    case ScheduleKind::kCosine:
      return "cosine";
  }
  return "unknown";
}

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// GeoTDM / improved-diffusion get_named_beta_schedule('linear'): scaling by 1000/T keeps the endpoint
// near pure noise for short chains (unscaled, T = 50 would end at abar = 0.603).
torch::Tensor linear_betas(int steps) {
  const double scale = 1000.0 / steps;
  if (steps == 1) return torch::full({1}, scale * 1e-4, kF64);  // linspace(a, b, 1) is a
  return torch::linspace(scale * 1e-4, scale * 0.02, steps, kF64);
}

// Nichol & Dhariwal (2021): abar(t) = cos^2(((t/T + s)/(1 + s)) pi/2); beta clipped at 0.999 so the
// last step does not divide by ~0.
torch::Tensor cosine_betas(int steps) {
  constexpr double kS = 0.008;
  const double half_pi = std::acos(-1.0) / 2.0;
  const auto abar = [&](double t) {
    const double c = std::cos((t / steps + kS) / (1.0 + kS) * half_pi);
    return c * c;
  };
  std::vector<double> betas(static_cast<std::size_t>(steps));
  for (int i = 0; i < steps; ++i) {
    betas[static_cast<std::size_t>(i)] = std::min(1.0 - abar(i + 1.0) / abar(i), 0.999);
  }
  return torch::tensor(betas, kF64);
}

}  // namespace

NoiseSchedule::NoiseSchedule(ScheduleKind kind, int steps) : kind_(kind), steps_(steps) {
  if (steps < 1) {
    throw UsageError("diffusion steps must be at least 1 (got " + std::to_string(steps) + ")");
  }
  betas_ = kind == ScheduleKind::kLinear ? linear_betas(steps) : cosine_betas(steps);
  alphas_ = 1.0 - betas_;
  alphas_cumprod_ = torch::cumprod(alphas_, 0);
  alphas_cumprod_prev_ = torch::cat({torch::ones({1}, kF64), alphas_cumprod_.slice(0, 0, steps - 1)});
  sqrt_alphas_cumprod_ = torch::sqrt(alphas_cumprod_);
  sqrt_one_minus_alphas_cumprod_ = torch::sqrt(1.0 - alphas_cumprod_);
  sqrt_recip_alphas_cumprod_ = torch::sqrt(1.0 / alphas_cumprod_);
  sqrt_recipm1_alphas_cumprod_ = torch::sqrt(1.0 / alphas_cumprod_ - 1.0);
  const auto one_minus = 1.0 - alphas_cumprod_;
  posterior_variance_ = betas_ * (1.0 - alphas_cumprod_prev_) / one_minus;
  posterior_mean_coef1_ = betas_ * torch::sqrt(alphas_cumprod_prev_) / one_minus;
  posterior_mean_coef2_ = (1.0 - alphas_cumprod_prev_) * torch::sqrt(alphas_) / one_minus;
}

torch::Tensor NoiseSchedule::per_atom(const torch::Tensor& table, const torch::Tensor& steps,
                                      const torch::Tensor& graph) const {
  const auto device = graph.device();
  const auto flat = table.to(device).index_select(0, steps.to(device, torch::kLong).reshape({-1}));
  if (steps.dim() == 2) {  // per-frame steps [B, T] -> [N, T, 1]
    return flat.view(steps.sizes()).index_select(0, graph.to(torch::kLong)).unsqueeze(-1);
  }
  return flat.index_select(0, graph.to(torch::kLong)).view({-1, 1, 1});
}

}  // namespace hemeplm::diffusion
