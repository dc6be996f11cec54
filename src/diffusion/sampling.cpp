#include "hemeplm/diffusion/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"
#include "hemeplm/diffusion/schedule.hpp"

namespace hemeplm::diffusion {

SamplerKind parse_sampler_kind(const std::string& name) {
  if (name == "ddpm") return SamplerKind::kDdpm;
  if (name == "ddim") return SamplerKind::kDdim;
  throw UsageError("unknown sampler '" + name + "' (expected 'ddpm' or 'ddim')");
}

const char* to_string(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kDdpm:
      return "ddpm";
    case SamplerKind::kDdim:
      return "ddim";
  }
  return "unknown";
}

SamplingSchedule::SamplingSchedule(const NoiseSchedule& schedule, SamplerKind kind, std::int64_t steps,
                                   double eta)
    : kind_(kind), eta_(eta) {
  const std::int64_t train_steps = schedule.steps();
  if (steps < 1 || steps > train_steps) {
    throw UsageError("sampling steps must be in [1, " + std::to_string(train_steps) + "] (got " +
                     std::to_string(steps) + ")");
  }
  if (kind == SamplerKind::kDdim && !(eta >= 0.0 && eta <= 1.0)) {
    throw UsageError("DDIM eta must be in [0, 1] (got " + std::to_string(eta) + ")");
  }
  const auto betas_t = schedule.betas().contiguous();
  const auto abar_t = schedule.alphas_cumprod().contiguous();
  const double* betas = betas_t.data_ptr<double>();
  const double* abar_table = abar_t.data_ptr<double>();

  tau_.resize(static_cast<std::size_t>(steps));
  steps_.resize(static_cast<std::size_t>(steps));
  std::int64_t prev_tau = -1;  // "step -1" has abar = 1
  for (std::int64_t k = 0; k < steps; ++k) {
    // Evenly spaced from 0 to the noisiest trained step, so that a short chain starts from noise.
    const std::int64_t tau =
        steps == 1 ? train_steps - 1 : (k * (train_steps - 1) + (steps - 1) / 2) / (steps - 1);
    tau_[static_cast<std::size_t>(k)] = tau;
    Step& s = steps_[static_cast<std::size_t>(k)];
    s.abar = abar_table[tau];
    s.abar_prev = prev_tau < 0 ? 1.0 : abar_table[prev_tau];
    if (tau - prev_tau == 1) {
      s.beta = betas[tau];  // exactly the trained table (1 - abar/abar_prev would round small betas)
    } else {
      double log_alpha = 0.0;
      for (std::int64_t j = prev_tau + 1; j <= tau; ++j) log_alpha += std::log1p(-betas[j]);
      s.beta = -std::expm1(log_alpha);
    }
    const double one_minus = 1.0 - s.abar;
    // Same operation order as NoiseSchedule so S == S_train reproduces its tables bit for bit.
    s.c1 = s.beta * std::sqrt(s.abar_prev) / one_minus;
    s.c2 = (1.0 - s.abar_prev) * std::sqrt(1.0 - s.beta) / one_minus;
    s.x_coef = std::sqrt(1.0 / s.abar);
    s.eps_coef = std::sqrt(1.0 / s.abar - 1.0);
    if (k == 0) {
      s.sigma = 0.0;
    } else if (kind == SamplerKind::kDdpm) {
      s.sigma = std::sqrt(s.beta);
    } else {
      s.sigma = eta * std::sqrt((1.0 - s.abar_prev) / one_minus) * std::sqrt(s.beta);
    }
    s.ddim_dir = std::sqrt(std::max(0.0, 1.0 - s.abar_prev - s.sigma * s.sigma));
    prev_tau = tau;
  }
}

const SamplingSchedule::Step& SamplingSchedule::at(std::int64_t k) const {
  if (k < 0 || k >= size()) {
    throw UsageError("sampling step " + std::to_string(k) + " outside [0, " + std::to_string(size()) + ")");
  }
  return steps_[static_cast<std::size_t>(k)];
}

std::int64_t SamplingSchedule::model_step(std::int64_t k) const {
  at(k);
  return tau_[static_cast<std::size_t>(k)];
}
double SamplingSchedule::alpha_bar(std::int64_t k) const {
  return at(k).abar;
}
double SamplingSchedule::alpha_bar_prev(std::int64_t k) const {
  return at(k).abar_prev;
}
double SamplingSchedule::beta(std::int64_t k) const {
  return at(k).beta;
}
double SamplingSchedule::noise_scale(std::int64_t k) const {
  return at(k).sigma;
}
double SamplingSchedule::posterior_mean_coef1(std::int64_t k) const {
  return at(k).c1;
}
double SamplingSchedule::posterior_mean_coef2(std::int64_t k) const {
  return at(k).c2;
}

void SamplingSchedule::step(std::int64_t k, Span<const double> x_t, Span<const double> eps_hat,
                            Span<const double> z, Span<double> out) const {
  const Step& s = at(k);
  const std::size_t n = x_t.size();
  if (eps_hat.size() != n || out.size() != n || (!z.empty() && z.size() != n)) {
    throw UsageError("sampling step: x_t, eps_hat, z and out sizes differ (" + std::to_string(n) + ", " +
                     std::to_string(eps_hat.size()) + ", " + std::to_string(z.size()) + ", " +
                     std::to_string(out.size()) + ")");
  }
  const bool noisy = s.sigma != 0.0;
  if (noisy && z.size() != n) {
    throw UsageError("sampling step " + std::to_string(k) + " adds noise but z is empty");
  }
  const double* x = x_t.data();
  const double* e = eps_hat.data();
  const double* zz = z.data();
  double* o = out.data();
  if (kind_ == SamplerKind::kDdpm) {
    for (std::size_t i = 0; i < n; ++i) {
      const double xi = x[i];
      const double x0 = s.x_coef * xi - s.eps_coef * e[i];
      const double noise = noisy ? s.sigma * zz[i] : 0.0;
      o[i] = s.c1 * x0 + s.c2 * xi + noise;
    }
  } else {
    const double sqrt_abar_prev = std::sqrt(s.abar_prev);
    for (std::size_t i = 0; i < n; ++i) {
      const double ei = e[i];
      const double x0 = s.x_coef * x[i] - s.eps_coef * ei;
      const double noise = noisy ? s.sigma * zz[i] : 0.0;
      o[i] = sqrt_abar_prev * x0 + s.ddim_dir * ei + noise;
    }
  }
}

std::pair<double, double> SamplingSchedule::initial_coefficients() const {
  const double abar = steps_.back().abar;
  return {std::sqrt(abar), std::sqrt(1.0 - abar)};
}

void keyed_normals(std::initializer_list<std::uint64_t> keys, Span<const std::int64_t> atom_ids,
                   Span<const std::int64_t> frame_ids, Span<double> out) {
  const std::size_t atoms = atom_ids.size();
  const std::size_t frames = frame_ids.size();
  if (out.size() != atoms * frames * 3) {
    throw UsageError("keyed_normals: out has " + std::to_string(out.size()) + " values, expected atoms (" +
                     std::to_string(atoms) + ") x frames (" + std::to_string(frames) + ") x 3");
  }
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;
  constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;  // SplitMix64 stream increment
  const auto uniform = [](std::uint64_t bits) {
    return (static_cast<double>(bits >> 11) + 0.5) * kTwoToMinus53;  // in (0, 1)
  };
  const std::uint64_t base = keyed_seed(keys);
  for (std::size_t a = 0; a < atoms; ++a) {
    // Same chaining as keyed_seed, so h == keyed_seed({keys..., atom, frame}).
    const std::uint64_t ha = splitmix64(base ^ splitmix64(static_cast<std::uint64_t>(atom_ids[a])));
    for (std::size_t f = 0; f < frames; ++f) {
      const std::uint64_t h = splitmix64(ha ^ splitmix64(static_cast<std::uint64_t>(frame_ids[f])));
      double* o = out.data() + (a * frames + f) * 3;
      for (std::uint64_t c = 0; c < 3; ++c) {
        // splitmix64(h + j * gamma) is output j of the SplitMix64 stream whose state starts at h.
        const double u1 = uniform(splitmix64(h + (2 * c) * kGamma));
        const double u2 = uniform(splitmix64(h + (2 * c + 1) * kGamma));
        o[c] = std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
      }
    }
  }
}

}  // namespace hemeplm::diffusion
