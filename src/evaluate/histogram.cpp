// Histograms and the Jensen–Shannon divergence (see histogram.hpp).
#include "hemeplm/evaluate/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hemeplm::evaluate {

int bin_of(double value, double lo, double hi, int bins) {
  if (!(value >= lo && value <= hi) || !(hi > lo)) return -1;
  const int bin = static_cast<int>((value - lo) / (hi - lo) * bins);
  return bin >= bins ? bins - 1 : bin;
}

Histogram::Histogram(double lo, double hi, int bins) : lo_(lo), hi_(hi), counts_(bins, 0.0) {}

void Histogram::add(double value) {
  const int bin = bin_of(value, lo_, hi_, bins());
  if (bin < 0) return;
  counts_[bin] += 1;
  total_ += 1;
}

double Histogram::center(int bin) const {
  return lo_ + (bin + 0.5) * (hi_ - lo_) / bins();
}

std::vector<double> Histogram::normalized() const {
  std::vector<double> p = counts_;
  if (total_ > 0)
    for (double& x : p) x /= total_;
  return p;
}

Histogram2D::Histogram2D(double x_lo, double x_hi, int bins_x, double y_lo, double y_hi, int bins_y)
    : x_lo_(x_lo),
      x_hi_(x_hi),
      y_lo_(y_lo),
      y_hi_(y_hi),
      bins_x_(bins_x),
      bins_y_(bins_y),
      counts_(static_cast<std::size_t>(bins_x) * bins_y, 0.0) {}

void Histogram2D::add(double x, double y) {
  const int bx = bin_of(x, x_lo_, x_hi_, bins_x_), by = bin_of(y, y_lo_, y_hi_, bins_y_);
  if (bx < 0 || by < 0) return;
  counts_[static_cast<std::size_t>(bx) * bins_y_ + by] += 1;
  total_ += 1;
}

std::vector<double> Histogram2D::normalized() const {
  std::vector<double> p = counts_;
  if (total_ > 0)
    for (double& x : p) x /= total_;
  return p;
}

double jensen_shannon(const std::vector<double>& p, const std::vector<double>& q) {
  const double sp = std::accumulate(p.begin(), p.end(), 0.0), sq = std::accumulate(q.begin(), q.end(), 0.0);
  if (p.size() != q.size() || !(sp > 0) || !(sq > 0)) return std::numeric_limits<double>::quiet_NaN();
  double jsd = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double a = p[i] / sp, b = q[i] / sq, m = 0.5 * (a + b);
    if (a > 0) jsd += 0.5 * a * std::log(a / m);
    if (b > 0) jsd += 0.5 * b * std::log(b / m);
  }
  return std::max(jsd, 0.0);
}

}  // namespace hemeplm::evaluate
