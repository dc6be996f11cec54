// Fixed-range histograms and the Jensen–Shannon divergence between them (natural log, so 0 <= JSD <= ln 2).
#pragma once
#include <vector>

namespace hemeplm::evaluate {

/// `bins` equal bins over [lo, hi]; values outside (or not finite) are counted in no bin. The last bin
/// includes hi.
class Histogram {
 public:
  Histogram(double lo, double hi, int bins);
  void add(double value);
  double center(int bin) const;
  int bins() const { return static_cast<int>(counts_.size()); }
  double total() const { return total_; }
  /// Counts divided by their sum (all zeros when nothing was counted).
  std::vector<double> normalized() const;

 private:
  double lo_, hi_;
  std::vector<double> counts_;
  double total_ = 0;
};

/// bins_x x bins_y bins over [x_lo, x_hi] x [y_lo, y_hi]; flattened row-major (x major) when normalised.
class Histogram2D {
 public:
  Histogram2D(double x_lo, double x_hi, int bins_x, double y_lo, double y_hi, int bins_y);
  void add(double x, double y);
  double total() const { return total_; }
  std::vector<double> normalized() const;

 private:
  double x_lo_, x_hi_, y_lo_, y_hi_;
  int bins_x_, bins_y_;
  std::vector<double> counts_;
  double total_ = 0;
};

/// Bin of `value` among `bins` equal bins over [lo, hi], or -1 outside.
int bin_of(double value, double lo, double hi, int bins);

/// JSD(P, Q) = ½ KL(P‖M) + ½ KL(Q‖M), M = ½(P + Q), natural log, 0·log 0 = 0; p and q are normalised
/// here. NaN when either has no mass (nothing to compare).
double jensen_shannon(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace hemeplm::evaluate
