// TICA against a synthetic two-state process whose slow coordinate is known.
#include "hemeplm/evaluate/tica.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hemeplm/core/error.hpp"

namespace hemeplm::evaluate {
namespace {

TEST(Tica, RecoversTheSlowCoordinateOfATwoStateProcess) {
  // Hidden state s(t) in {−1, +1} flips with probability p per frame; features mix it with fast noise:
  //   x0 = 0.6 s + n0, x1 = −0.6 s + n1, x2 = n2 (noise of σ = 1, independent in time).
  // The slow TICA component must follow s, with autocorrelation 1 − 2p scaled by the signal fraction.
  const double p = 0.01;
  const std::int64_t frames = 20000;
  std::mt19937_64 random(11);
  std::normal_distribution<double> gauss;
  std::uniform_real_distribution<double> uniform;
  std::vector<double> state(frames), x(frames * 3);
  double s = 1;
  for (std::int64_t t = 0; t < frames; ++t) {
    if (uniform(random) < p) s = -s;
    state[t] = s;
    x[t * 3 + 0] = 0.6 * s + gauss(random);
    x[t * 3 + 1] = -0.6 * s + gauss(random);
    x[t * 3 + 2] = gauss(random);
  }
  const TicaModel model = fit_tica(x, frames, 3, 1);
  EXPECT_GT(model.eigenvalues[0], 0.3);
  EXPECT_LT(std::abs(model.eigenvalues[1]), 0.05);
  const std::vector<double> y = tica_project(model, x, frames, 2);
  // The component weights x0 and x1 with opposite signs and ignores x2.
  EXPECT_LT(model.components[0 * 3 + 0] * model.components[1 * 3 + 0], 0);
  EXPECT_LT(std::abs(model.components[2 * 3 + 0]), 0.1 * std::abs(model.components[0 * 3 + 0]));
  // TICA coordinates have unit variance and zero mean on the fitted data; tica0 correlates with s.
  double mean = 0, var = 0, cov = 0;
  for (std::int64_t t = 0; t < frames; ++t) mean += y[t * 2];
  mean /= frames;
  for (std::int64_t t = 0; t < frames; ++t) {
    var += (y[t * 2] - mean) * (y[t * 2] - mean);
    cov += (y[t * 2] - mean) * state[t];
  }
  var /= frames;
  EXPECT_NEAR(mean, 0, 0.02);
  EXPECT_NEAR(var, 1, 0.05);
  EXPECT_GT(std::abs(cov / frames / std::sqrt(var)), 0.6);  // corr(tica0, s) ~ 0.65 at this noise
}

TEST(Tica, NeedsMoreFramesThanTheLag) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5};
  EXPECT_THROW(fit_tica(x, 3, 2, 3), UsageError);
  EXPECT_NO_THROW(fit_tica(x, 3, 2, 2));
}

}  // namespace
}  // namespace hemeplm::evaluate
