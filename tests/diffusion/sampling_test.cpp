// Sampler step math against model-spec.md (c) (ancestral DDPM with FIXED_LARGE variance, DDIM) and the
// statistics and placement-independence of the keyed normal draws.
#include "hemeplm/diffusion/sampling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"
#include "hemeplm/diffusion/schedule.hpp"

namespace hemeplm::diffusion {
namespace {

double at(const torch::Tensor& t, std::int64_t i) {
  return t[i].item<double>();
}

void expect_rel(double value, double reference, double rel, const char* what, std::int64_t k) {
  EXPECT_LE(std::abs(value - reference), rel * std::abs(reference))
      << what << " at k = " << k << ": " << value << " vs " << reference;
}

// Deterministic, non-trivial test vectors (no RNG needed).
std::vector<double> pattern(std::size_t n, double phase) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = std::sin(1.7 * static_cast<double>(i) + phase) * 1.3 + 0.1 * phase;
  return v;
}

TEST(Sampling, ParsingAndNames) {
  EXPECT_EQ(parse_sampler_kind("ddpm"), SamplerKind::kDdpm);
  EXPECT_EQ(parse_sampler_kind("ddim"), SamplerKind::kDdim);
  EXPECT_STREQ(to_string(SamplerKind::kDdpm), "ddpm");
  EXPECT_STREQ(to_string(SamplerKind::kDdim), "ddim");
  try {
    parse_sampler_kind("euler");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("euler"), std::string::npos) << e.what();
  }
}

TEST(Sampling, FullLengthDdpmEqualsScheduleTables) {
  for (const auto schedule_kind : {ScheduleKind::kLinear, ScheduleKind::kCosine}) {
    for (const int train_steps : {1, 50, 1000}) {
      SCOPED_TRACE(std::string(to_string(schedule_kind)) + " T=" + std::to_string(train_steps));
      const NoiseSchedule schedule(schedule_kind, train_steps);
      const SamplingSchedule s(schedule, SamplerKind::kDdpm, train_steps);
      ASSERT_EQ(s.size(), train_steps);
      for (std::int64_t k = 0; k < s.size(); ++k) {
        ASSERT_EQ(s.model_step(k), k);
        expect_rel(s.alpha_bar(k), at(schedule.alphas_cumprod(), k), 1e-14, "abar", k);
        expect_rel(s.alpha_bar_prev(k), at(schedule.alphas_cumprod_prev(), k), 1e-14, "abar_prev", k);
        expect_rel(s.beta(k), at(schedule.betas(), k), 1e-14, "beta", k);
        expect_rel(s.posterior_mean_coef1(k), at(schedule.posterior_mean_coef1(), k), 1e-14, "c1", k);
        expect_rel(s.posterior_mean_coef2(k), at(schedule.posterior_mean_coef2(), k), 1e-14, "c2", k);
        const double sigma = k == 0 ? 0.0 : std::sqrt(at(schedule.betas(), k));  // FIXED_LARGE
        expect_rel(s.noise_scale(k), sigma, 1e-14, "sigma", k);
      }
      const auto [a, b] = s.initial_coefficients();
      expect_rel(a, at(schedule.sqrt_alphas_cumprod(), train_steps - 1), 1e-14, "sqrt abar_T", 0);
      expect_rel(b, at(schedule.sqrt_one_minus_alphas_cumprod(), train_steps - 1), 1e-14, "sqrt 1-abar_T", 0);
    }
  }
}

TEST(Sampling, RespacedTimestepsAndAlphas) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const SamplingSchedule s(schedule, SamplerKind::kDdim, 10);
  ASSERT_EQ(s.size(), 10);
  for (std::int64_t k = 0; k < 10; ++k) {
    EXPECT_EQ(s.model_step(k), 11 * k);  // round(k * 99 / 9)
    expect_rel(s.alpha_bar(k), at(schedule.alphas_cumprod(), 11 * k), 0.0, "abar", k);
    const double prev = k == 0 ? 1.0 : at(schedule.alphas_cumprod(), 11 * (k - 1));
    expect_rel(s.alpha_bar_prev(k), prev, 0.0, "abar_prev", k);
    expect_rel(s.beta(k), 1.0 - s.alpha_bar(k) / s.alpha_bar_prev(k), 1e-12, "beta", k);
  }
  // Uneven spacing: round(k * 99 / 6) = 0, 17, 33, 50, 66, 83, 99 (halves round up).
  const SamplingSchedule uneven(schedule, SamplerKind::kDdpm, 7);
  const std::int64_t expected[] = {0, 17, 33, 50, 66, 83, 99};
  for (std::int64_t k = 0; k < 7; ++k) EXPECT_EQ(uneven.model_step(k), expected[k]);
  const auto [a, b] = uneven.initial_coefficients();
  EXPECT_DOUBLE_EQ(a, std::sqrt(at(schedule.alphas_cumprod(), 99)));
  EXPECT_DOUBLE_EQ(b, std::sqrt(1.0 - at(schedule.alphas_cumprod(), 99)));
}

// mu = c1 x0_hat + c2 x_t must equal (1/sqrt(alpha))(x_t - beta/sqrt(1-abar) eps); the noise is added as
// sigma z. Checked at full length and respaced (alpha_k = abar_k / abar_prev_k there).
TEST(Sampling, DdpmStepEqualsAlternativeForm) {
  const std::size_t n = 12;
  const auto x = pattern(n, 0.3), eps = pattern(n, 1.1), z = pattern(n, 2.9);
  for (const auto schedule_kind : {ScheduleKind::kLinear, ScheduleKind::kCosine}) {
    const NoiseSchedule schedule(schedule_kind, 100);
    for (const std::int64_t steps : {100, 10, 3}) {
      SCOPED_TRACE(std::string(to_string(schedule_kind)) + " S=" + std::to_string(steps));
      const SamplingSchedule s(schedule, SamplerKind::kDdpm, steps);
      std::vector<double> out(n);
      for (std::int64_t k = 0; k < steps; ++k) {
        s.step(k, x, eps, z, out);
        const double abar = s.alpha_bar(k), beta = s.beta(k), alpha = 1.0 - beta;
        const double sigma = k == 0 ? 0.0 : std::sqrt(beta);
        for (std::size_t i = 0; i < n; ++i) {
          const double reference =
              (x[i] - beta / std::sqrt(1.0 - abar) * eps[i]) / std::sqrt(alpha) + sigma * z[i];
          // The noisiest step divides by sqrt(abar) ~ 5e-3: the two forms round differently there.
          ASSERT_NEAR(out[i], reference, 1e-9 * (1.0 + std::abs(reference))) << "k = " << k << " i = " << i;
        }
      }
    }
  }
}

TEST(Sampling, StepMayAliasInputAndIgnoresZWithoutNoise) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 50);
  const std::size_t n = 9;
  const auto x = pattern(n, 0.7), eps = pattern(n, 1.9), z = pattern(n, 3.3);
  for (const auto kind : {SamplerKind::kDdpm, SamplerKind::kDdim}) {
    const SamplingSchedule s(schedule, kind, 50, 0.5);
    std::vector<double> separate(n), inplace = x;
    s.step(17, x, eps, z, separate);
    s.step(17, inplace, eps, z, inplace);
    EXPECT_EQ(separate, inplace);
    // k == 0 adds no noise: an empty z and a z of ones give the same result.
    const std::vector<double> ones(n, 1.0);
    std::vector<double> a(n), b(n);
    s.step(0, x, eps, {}, a);
    s.step(0, x, eps, ones, b);
    EXPECT_EQ(a, b);
    EXPECT_EQ(s.noise_scale(0), 0.0);
    EXPECT_GT(s.noise_scale(1), 0.0);
  }
}

TEST(Sampling, DdimEtaZeroIsDeterministicAndRecoversX0) {
  for (const auto schedule_kind : {ScheduleKind::kLinear, ScheduleKind::kCosine}) {
    const NoiseSchedule schedule(schedule_kind, 1000);
    for (const std::int64_t steps : {1000, 100, 7, 1}) {
      SCOPED_TRACE(std::string(to_string(schedule_kind)) + " S=" + std::to_string(steps));
      const SamplingSchedule s(schedule, SamplerKind::kDdim, steps, 0.0);
      for (std::int64_t k = 0; k < steps; ++k) ASSERT_EQ(s.noise_scale(k), 0.0);
      const std::size_t n = 15;
      const auto x0 = pattern(n, 0.4), start = pattern(n, 2.2);
      const auto [ca, cb] = s.initial_coefficients();
      std::vector<double> x(n), eps(n), again(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = ca * x0[i] + cb * start[i];
      for (std::int64_t k = steps - 1; k >= 0; --k) {
        const double abar = s.alpha_bar(k);
        for (std::size_t i = 0; i < n; ++i) eps[i] = (x[i] - std::sqrt(abar) * x0[i]) / std::sqrt(1.0 - abar);
        s.step(k, x, eps, {}, again);
        s.step(k, x, eps, {}, x);  // no noise: same result every time, z not needed
        ASSERT_EQ(again, x);
      }
      for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(x[i], x0[i], 1e-10) << i;  // from abar_T ~ 4e-5
    }
  }
}

// x_t = sqrt(abar_k) m + sqrt(1-abar_k) e with eps_hat = e lands on sqrt(abar_prev_k) m + sqrt(1-abar_prev_k)
// e.
TEST(Sampling, DdimTracksTheMean) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 100);
  const std::size_t n = 11;
  const auto m = pattern(n, 0.9), e = pattern(n, 4.1);
  for (const std::int64_t steps : {100, 10, 3}) {
    const SamplingSchedule s(schedule, SamplerKind::kDdim, steps, 0.0);
    std::vector<double> x(n), out(n);
    for (std::int64_t k = 0; k < steps; ++k) {
      const double abar = s.alpha_bar(k), prev = s.alpha_bar_prev(k);
      for (std::size_t i = 0; i < n; ++i) x[i] = std::sqrt(abar) * m[i] + std::sqrt(1.0 - abar) * e[i];
      s.step(k, x, e, {}, out);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(out[i], std::sqrt(prev) * m[i] + std::sqrt(1.0 - prev) * e[i], 1e-12)
            << "S = " << steps << " k = " << k;
      }
    }
  }
}

// DDIM with eta = 1 uses the DDPM posterior variance beta~ (FIXED_SMALL), and its mean equals the DDPM
// posterior mean; the noise is sigma z.
TEST(Sampling, DdimEtaOneMatchesPosterior) {
  const NoiseSchedule schedule(ScheduleKind::kCosine, 200);
  const SamplingSchedule ddim(schedule, SamplerKind::kDdim, 200, 1.0);
  const SamplingSchedule ddpm(schedule, SamplerKind::kDdpm, 200);
  const SamplingSchedule half(schedule, SamplerKind::kDdim, 200, 0.5);
  const std::size_t n = 6;
  const auto x = pattern(n, 0.2), eps = pattern(n, 1.4), z = pattern(n, 2.6);
  const std::vector<double> no_noise(n, 0.0);
  std::vector<double> a(n), b(n);
  EXPECT_EQ(ddim.eta(), 1.0);
  EXPECT_EQ(ddim.kind(), SamplerKind::kDdim);
  for (std::int64_t k = 1; k < 200; ++k) {
    expect_rel(ddim.noise_scale(k), std::sqrt(at(schedule.posterior_variance(), k)), 1e-12, "sigma", k);
    expect_rel(half.noise_scale(k), 0.5 * ddim.noise_scale(k), 1e-15, "sigma(eta/2)", k);
    ddim.step(k, x, eps, no_noise, a);
    ddpm.step(k, x, eps, no_noise, b);
    for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], 1e-10 * (1.0 + std::abs(b[i]))) << k;
    ddim.step(k, x, eps, z, b);
    for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(b[i] - a[i], ddim.noise_scale(k) * z[i], 1e-12) << k;
  }
}

TEST(Sampling, BadArgumentsThrow) {
  const NoiseSchedule schedule(ScheduleKind::kLinear, 50);
  EXPECT_THROW(SamplingSchedule(schedule, SamplerKind::kDdpm, 0), UsageError);
  EXPECT_THROW(SamplingSchedule(schedule, SamplerKind::kDdpm, 51), UsageError);
  EXPECT_THROW(SamplingSchedule(schedule, SamplerKind::kDdim, 10, -0.1), UsageError);
  EXPECT_THROW(SamplingSchedule(schedule, SamplerKind::kDdim, 10, 1.5), UsageError);
  EXPECT_THROW(SamplingSchedule(schedule, SamplerKind::kDdim, 10, std::numeric_limits<double>::quiet_NaN()),
               UsageError);
  EXPECT_NO_THROW(SamplingSchedule(schedule, SamplerKind::kDdim, 50, 1.0));
  EXPECT_NO_THROW(SamplingSchedule(schedule, SamplerKind::kDdpm, 1));

  const SamplingSchedule s(schedule, SamplerKind::kDdpm, 10);
  EXPECT_THROW(s.model_step(10), UsageError);
  EXPECT_THROW(s.noise_scale(-1), UsageError);
  std::vector<double> x(6, 0.5), eps(6, 0.1), z(6, 0.2), out(6), shorter(5);
  EXPECT_THROW(s.step(10, x, eps, z, out), UsageError);
  EXPECT_THROW(s.step(3, x, shorter, z, out), UsageError);
  EXPECT_THROW(s.step(3, x, eps, z, shorter), UsageError);
  EXPECT_THROW(s.step(3, x, eps, shorter, out), UsageError);
  EXPECT_THROW(s.step(3, x, eps, {}, out), UsageError);  // noise needed but no z
  EXPECT_THROW(s.step(0, x, eps, shorter, out), UsageError);
  EXPECT_NO_THROW(s.step(0, x, eps, {}, out));
}

// ---- keyed_normals ---------------------------------------------------------------------------------

std::vector<double> normals(std::initializer_list<std::uint64_t> keys, const std::vector<std::int64_t>& atoms,
                            const std::vector<std::int64_t>& frames) {
  std::vector<double> out(atoms.size() * frames.size() * 3);
  keyed_normals(keys, atoms, frames, out);
  return out;
}

TEST(KeyedNormals, ValueDependsOnlyOnAtomFrameComponent) {
  const std::vector<std::int64_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 1000000007, -3};
  const std::vector<std::int64_t> frames = {0, 1, 2, 9};
  const auto full = normals({42, 7}, all, frames);
  const std::vector<std::int64_t> subset = {-3, 5, 1, 1000000007};  // other rank, other order
  const std::vector<std::int64_t> sub_frames = {9, 1};
  const auto part = normals({42, 7}, subset, sub_frames);
  const auto index_of = [](const std::vector<std::int64_t>& v, std::int64_t x) {
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), x) - v.begin());
  };
  for (std::size_t a = 0; a < subset.size(); ++a) {
    for (std::size_t f = 0; f < sub_frames.size(); ++f) {
      for (std::size_t c = 0; c < 3; ++c) {
        const std::size_t fa = index_of(all, subset[a]), ff = index_of(frames, sub_frames[f]);
        EXPECT_EQ(part[(a * sub_frames.size() + f) * 3 + c], full[(fa * frames.size() + ff) * 3 + c]);
      }
    }
  }
  // Documented derivation: h = keyed_seed({keys..., atom, frame}); SplitMix64 stream outputs 2c, 2c+1.
  const auto uniform = [](std::uint64_t bits) {
    return (static_cast<double>(bits >> 11) + 0.5) / 9007199254740992.0;
  };
  const std::uint64_t h = keyed_seed({42, 7, 5, 2});
  for (std::uint64_t c = 0; c < 3; ++c) {
    const double u1 = uniform(splitmix64(h + 2 * c * 0x9E3779B97F4A7C15ULL));
    const double u2 = uniform(splitmix64(h + (2 * c + 1) * 0x9E3779B97F4A7C15ULL));
    const double reference = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::acos(-1.0) * u2);
    EXPECT_NEAR(full[(5 * frames.size() + 2) * 3 + c], reference, 1e-15);
  }
  // Same keys reproduce; components, frames and atoms all differ from each other.
  EXPECT_EQ(full, normals({42, 7}, all, frames));
  std::vector<double> sorted = full;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(KeyedNormals, DifferentKeysDiffer) {
  const std::vector<std::int64_t> atoms = {0, 1, 2, 3}, frames = {0, 1};
  const auto base = normals({42, 7}, atoms, frames);
  for (const auto& other : {normals({42, 8}, atoms, frames), normals({7, 42}, atoms, frames),
                            normals({42, 7, 0}, atoms, frames), normals({43, 7}, atoms, frames)}) {
    std::size_t equal = 0;
    for (std::size_t i = 0; i < base.size(); ++i) equal += base[i] == other[i];
    EXPECT_EQ(equal, 0u);
  }
}

TEST(KeyedNormals, StandardNormalStatistics) {
  const std::int64_t atoms = 40000, frames = 5;  // 600k draws
  std::vector<std::int64_t> atom_ids(atoms), frame_ids(frames);
  for (std::int64_t a = 0; a < atoms; ++a) atom_ids[static_cast<std::size_t>(a)] = a;
  for (std::int64_t f = 0; f < frames; ++f) frame_ids[static_cast<std::size_t>(f)] = f;
  const auto z = normals({2026, 11, 3}, atom_ids, frame_ids);
  double sum = 0, sum2 = 0;
  std::size_t beyond = 0;
  for (const double v : z) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += v * v;
    beyond += std::abs(v) > 3.0;
  }
  const double count = static_cast<double>(z.size());
  const double mean = sum / count, var = sum2 / count - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.02);
  EXPECT_NEAR(static_cast<double>(beyond) / count, 0.0027, 0.0004);
  // Lag-1 correlation between consecutive atom ids (same frame, same component), and between components.
  for (std::int64_t c = 0; c < 3; ++c) {
    double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    double cxy = 0;
    double m = 0;
    for (std::int64_t a = 0; a + 1 < atoms; ++a) {
      for (std::int64_t f = 0; f < frames; ++f) {
        const double x = z[static_cast<std::size_t>((a * frames + f) * 3 + c)];
        const double y = z[static_cast<std::size_t>(((a + 1) * frames + f) * 3 + c)];
        const double w = z[static_cast<std::size_t>((a * frames + f) * 3 + (c + 1) % 3)];
        sxy += x * y, sx += x, sy += y, sxx += x * x, syy += y * y, cxy += x * w, m += 1;
      }
    }
    const double cov = sxy / m - (sx / m) * (sy / m);
    const double corr = cov / std::sqrt((sxx / m - (sx / m) * (sx / m)) * (syy / m - (sy / m) * (sy / m)));
    EXPECT_LT(std::abs(corr), 0.01) << "component " << c;
    EXPECT_LT(std::abs(cxy / m), 0.01) << "component " << c << " vs " << (c + 1) % 3;
  }
}

TEST(KeyedNormals, SizeMismatchThrows) {
  const std::vector<std::int64_t> atoms = {0, 1}, frames = {0, 1, 2};
  std::vector<double> out(17);
  EXPECT_THROW(keyed_normals({1}, atoms, frames, out), UsageError);
  std::vector<double> empty;
  EXPECT_NO_THROW(keyed_normals({1}, {}, frames, empty));
}

}  // namespace
}  // namespace hemeplm::diffusion
