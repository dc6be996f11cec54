// Regression metrics of a model's energies and forces against reference labels (plain float64 loops).
#include <cmath>
#include <limits>
#include <string>

#include "hemeplm/core/error.hpp"
#include "regression_accumulator.hpp"

namespace hemeplm::evaluate {

void RegressionAccumulator::add(double truth, double predicted) {
  ++count_;
  const double n = static_cast<double>(count_);
  const double dt = truth - mean_truth_;
  const double dp = predicted - mean_predicted_;
  mean_truth_ += dt / n;
  mean_predicted_ += dp / n;
  truth_m2_ += dt * (truth - mean_truth_);
  predicted_m2_ += dp * (predicted - mean_predicted_);
  co_moment_ += dt * (predicted - mean_predicted_);
  const double error = predicted - truth;
  absolute_error_ += std::abs(error);
  squared_error_ += error * error;
}

RegressionMetrics RegressionAccumulator::metrics() const {
  constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
  RegressionMetrics m;
  m.count = count_;
  if (count_ == 0) {
    m.mse = m.mae = m.rmse = m.r2 = m.pearson = kUndefined;
    return m;
  }
  const double n = static_cast<double>(count_);
  m.mse = squared_error_ / n;
  m.mae = absolute_error_ / n;
  m.rmse = std::sqrt(m.mse);
  m.r2 = count_ > 1 && truth_m2_ > 0 ? 1.0 - squared_error_ / truth_m2_ : kUndefined;
  m.pearson = count_ > 1 && truth_m2_ > 0 && predicted_m2_ > 0
                  ? co_moment_ / std::sqrt(truth_m2_ * predicted_m2_)
                  : kUndefined;
  return m;
}

RegressionMetrics regression_metrics(const std::vector<double>& truth, const std::vector<double>& predicted) {
  if (truth.size() != predicted.size())
    throw UsageError("regression_metrics: " + std::to_string(truth.size()) + " labels but " +
                     std::to_string(predicted.size()) + " predictions");
  RegressionAccumulator accumulator;
  for (std::size_t i = 0; i < truth.size(); ++i) accumulator.add(truth[i], predicted[i]);
  return accumulator.metrics();
}

}  // namespace hemeplm::evaluate
