// Streaming form of regression_metrics(): pairs are added one at a time, so the force components of a
// whole trajectory (frames x atoms x 3) never have to be held at once. Welford-style running means and
// co-moments keep R² and Pearson exact to rounding even for energies of -1e5 kJ/mol spread over a few
// kJ/mol, where sum(y²) - (sum y)²/n would cancel.
#pragma once

#include "hemeplm/evaluate/energy_evaluation.hpp"

namespace hemeplm::evaluate {

class RegressionAccumulator {
 public:
  void add(double truth, double predicted);
  /// r2 and pearson are NaN (null in JSON) when undefined: fewer than two pairs or a constant series.
  RegressionMetrics metrics() const;

 private:
  long long count_ = 0;
  double mean_truth_ = 0, mean_predicted_ = 0;
  double truth_m2_ = 0, predicted_m2_ = 0, co_moment_ = 0;  // sums of centred squares / products
  double absolute_error_ = 0, squared_error_ = 0;
};

}  // namespace hemeplm::evaluate
