// Noise-schedule tables against model-spec.md (c) and the DDPM identities they must satisfy.
#include "hemeplm/diffusion/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "hemeplm/core/error.hpp"

namespace hemeplm::diffusion {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

double at(const torch::Tensor& t, std::int64_t i) {
  return t[i].item<double>();
}

// |value - reference| within half a unit of the reference's last quoted digit.
void expect_quoted(double value, double reference, double last_digit, const char* what) {
  EXPECT_LE(std::abs(value - reference), 0.5 * last_digit + 1e-15)
      << what << ": " << value << " vs " << reference;
}

struct SpecRow {
  int steps;
  double beta_1, beta_T, abar_half, abar_half_digit, abar_T, abar_T_digit, sqrt_abar_T, sqrt_abar_T_digit;
};

TEST(Schedule, LinearMatchesSpecTable) {
  const SpecRow rows[] = {{1000, 1e-4, 0.02, 0.0786, 1e-4, 4.04e-5, 1e-7, 6.35e-3, 1e-5},
                          {100, 1e-3, 0.2, 0.0742, 1e-4, 2.04e-5, 1e-7, 4.52e-3, 1e-5},
                          {50, 2e-3, 0.4, 0.0691, 1e-4, 7.7e-6, 1e-7, 2.78e-3, 1e-5}};
  for (const auto& row : rows) {
    SCOPED_TRACE(row.steps);
    const NoiseSchedule s(ScheduleKind::kLinear, row.steps);
    ASSERT_EQ(s.steps(), row.steps);
    ASSERT_EQ(s.betas().scalar_type(), torch::kFloat64);
    ASSERT_EQ(s.betas().size(0), row.steps);
    EXPECT_NEAR(at(s.betas(), 0), row.beta_1, 1e-15);
    EXPECT_NEAR(at(s.betas(), row.steps - 1), row.beta_T, 1e-14);
    // "abar at T/2" is step T/2 counted from 1, i.e. index T/2 - 1.
    expect_quoted(at(s.alphas_cumprod(), row.steps / 2 - 1), row.abar_half, row.abar_half_digit, "abar(T/2)");
    expect_quoted(at(s.alphas_cumprod(), row.steps - 1), row.abar_T, row.abar_T_digit, "abar_T");
    expect_quoted(at(s.sqrt_alphas_cumprod(), row.steps - 1), row.sqrt_abar_T, row.sqrt_abar_T_digit,
                  "sqrt(abar_T)");
  }
}

TEST(Schedule, DerivedTablesAndPosteriorIdentity) {
  for (const auto kind : {ScheduleKind::kLinear, ScheduleKind::kCosine}) {
    SCOPED_TRACE(to_string(kind));
    const int steps = 100;
    const NoiseSchedule s(kind, steps);
    const auto& abar = s.alphas_cumprod();
    EXPECT_TRUE(torch::allclose(abar, torch::cumprod(1.0 - s.betas(), 0), 0, 1e-15));
    EXPECT_EQ(at(s.alphas_cumprod_prev(), 0), 1.0);
    EXPECT_TRUE(torch::equal(s.alphas_cumprod_prev().slice(0, 1), abar.slice(0, 0, steps - 1)));
    EXPECT_TRUE(torch::allclose(s.sqrt_recip_alphas_cumprod() * s.sqrt_alphas_cumprod(),
                                torch::ones({steps}, kF64), 1e-14, 1e-14));
    EXPECT_TRUE(torch::allclose(s.sqrt_recipm1_alphas_cumprod().pow(2), 1.0 / abar - 1.0, 1e-12, 0));
    EXPECT_TRUE(torch::allclose(s.posterior_variance(),
                                s.betas() * (1.0 - s.alphas_cumprod_prev()) / (1.0 - abar), 1e-14, 0));

    torch::manual_seed(1);
    const auto x0 = torch::randn({steps, 5}, kF64);
    const auto eps = torch::randn({steps, 5}, kF64);
    const auto col = [](const torch::Tensor& t) { return t.unsqueeze(1); };
    const auto xt = col(s.sqrt_alphas_cumprod()) * x0 + col(s.sqrt_one_minus_alphas_cumprod()) * eps;
    // x0 recovered from (x_t, eps) with the reciprocal tables.
    const auto x0_hat = col(s.sqrt_recip_alphas_cumprod()) * xt - col(s.sqrt_recipm1_alphas_cumprod()) * eps;
    EXPECT_LT((x0_hat - x0).abs().max().item<double>(), 1e-9);
    // c1 x0 + c2 x_t = (1/sqrt(alpha)) (x_t - beta / sqrt(1 - abar) eps).
    const auto mu = col(s.posterior_mean_coef1()) * x0 + col(s.posterior_mean_coef2()) * xt;
    const auto mu_eps =
        col(1.0 / torch::sqrt(s.alphas())) * (xt - col(s.betas() / s.sqrt_one_minus_alphas_cumprod()) * eps);
    EXPECT_LT((mu - mu_eps).abs().max().item<double>(), 1e-12);
  }
}

TEST(Schedule, CosineIsMonotoneAndEndsNearNoise) {
  const NoiseSchedule s(ScheduleKind::kCosine, 1000);
  const auto& abar = s.alphas_cumprod();
  EXPECT_TRUE((abar.slice(0, 1) < abar.slice(0, 0, -1)).all().item<bool>());
  EXPECT_TRUE((s.betas() > 0).all().item<bool>());
  EXPECT_LE(s.betas().max().item<double>(), 0.999);
  EXPECT_LT(at(abar, 999), 1e-6);
  EXPECT_GT(at(abar, 0), 0.9999);
  // Nichol & Dhariwal: abar_t = f(t)/f(0), f(t) = cos^2((t/T + s)/(1 + s) pi/2), at an interior step.
  const auto f = [](double t) {
    const double c = std::cos((t / 1000.0 + 0.008) / 1.008 * std::acos(-1.0) / 2.0);
    return c * c;
  };
  EXPECT_NEAR(at(abar, 499), f(500) / f(0), 1e-12);
}

TEST(Schedule, ParsingAndErrors) {
  EXPECT_EQ(parse_schedule_kind("linear"), ScheduleKind::kLinear);
  EXPECT_EQ(parse_schedule_kind("cosine"), ScheduleKind::kCosine);
  EXPECT_STREQ(to_string(ScheduleKind::kCosine), "cosine");
  EXPECT_THROW(parse_schedule_kind("quadratic"), UsageError);
  EXPECT_THROW(NoiseSchedule(ScheduleKind::kLinear, 0), UsageError);
  const NoiseSchedule one(ScheduleKind::kLinear, 1);
  EXPECT_NEAR(at(one.betas(), 0), 0.1, 1e-15);
}

TEST(Schedule, PerAtomGathersPerGraph) {
  const NoiseSchedule s(ScheduleKind::kLinear, 10);
  const auto steps = torch::tensor({3, 0, 9}, torch::kLong);
  const auto graph = torch::tensor({0, 0, 1, 2, 2, 2}, torch::kLong);
  const auto v = s.per_atom(s.betas(), steps, graph);
  ASSERT_EQ(v.sizes(), (std::vector<std::int64_t>{6, 1, 1}));
  ASSERT_EQ(v.scalar_type(), torch::kFloat64);
  const std::int64_t expected_step[] = {3, 3, 0, 9, 9, 9};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i][0][0].item<double>(), at(s.betas(), expected_step[i]));
}

}  // namespace
}  // namespace hemeplm::diffusion
