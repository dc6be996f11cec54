// TICA features, fit and projection (see tica.hpp).
#include "hemeplm/evaluate/tica.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/linear_algebra.hpp"

namespace hemeplm::evaluate {
namespace {

// `count` of `items` spread evenly over the list (all of them when there are not more).
template <class T>
std::vector<T> evenly_chosen(const std::vector<T>& items, std::size_t count) {
  if (items.size() <= count) return items;
  std::vector<T> chosen;
  for (std::size_t i = 0; i < count; ++i) chosen.push_back(items[i * items.size() / count]);
  return chosen;
}

std::array<int, 4> canonical(std::array<int, 4> t) {
  if (t[1] > t[2]) t = {t[3], t[2], t[1], t[0]};
  return t;
}

}  // namespace

TicaFeatures choose_tica_features(const System& system, int cap) {
  const InternalCoordinates ic = heavy_internal_coordinates(system);
  TicaFeatures features;
  if (ic.torsions.size() >= 2) {
    const BackboneDihedrals backbone = backbone_dihedrals(system);
    std::vector<std::array<int, 4>> first;
    std::set<std::array<int, 4>> taken;
    for (const auto* list : {&backbone.phi, &backbone.psi, &backbone.omega})
      for (const auto& t : *list)
        if (taken.insert(canonical(t)).second) first.push_back(t);
    first = evenly_chosen(first, static_cast<std::size_t>(cap));
    std::vector<std::array<int, 4>> others;
    for (const auto& t : ic.torsions)
      if (!taken.count(canonical(t))) others.push_back(t);
    features.torsions = first;
    const auto rest = evenly_chosen(others, static_cast<std::size_t>(cap) - first.size());
    features.torsions.insert(features.torsions.end(), rest.begin(), rest.end());
    return features;
  }
  const std::vector<int> heavy = heavy_atoms(system);
  std::vector<std::array<int, 2>> pairs;
  for (std::size_t i = 0; i < heavy.size(); ++i)
    for (std::size_t j = i + 1; j < heavy.size(); ++j) pairs.push_back({heavy[i], heavy[j]});
  features.pairs = evenly_chosen(pairs, static_cast<std::size_t>(cap));
  return features;
}

std::vector<double> tica_feature_matrix(const TicaFeatures& features, const Trajectory& trajectory) {
  const int dim = features.dim();
  std::vector<double> x(static_cast<std::size_t>(trajectory.frame_count) * dim);
  for (std::int64_t f = 0; f < trajectory.frame_count; ++f) {
    const auto r = trajectory.frame(f);
    double* row = x.data() + f * dim;
    for (const auto& t : features.torsions) {
      const double angle = dihedral(r[t[0]], r[t[1]], r[t[2]], r[t[3]]);
      *row++ = std::cos(angle);
      *row++ = std::sin(angle);
    }
    for (const auto& p : features.pairs) *row++ = distance(r[p[0]], r[p[1]]);
  }
  return x;
}

TicaModel fit_tica(const std::vector<double>& x, std::int64_t frames, int dim, int lag) {
  if (lag < 1) throw UsageError("TICA lag must be at least 1 frame (got " + std::to_string(lag) + ")");
  if (frames <= lag)
    throw UsageError("the TICA lag (--tica-lag " + std::to_string(lag) + ") needs more than " +
                     std::to_string(lag) + " reference frames (the reference has " + std::to_string(frames) +
                     ")");
  TicaModel model;
  model.dim = dim;
  model.lag = lag;
  const std::int64_t pairs = frames - lag;
  const std::size_t n = static_cast<std::size_t>(dim);
  model.mean.assign(n, 0.0);
  for (std::int64_t t = 0; t < pairs; ++t)
    for (std::size_t i = 0; i < n; ++i) model.mean[i] += x[t * dim + i] + x[(t + lag) * dim + i];
  for (double& m : model.mean) m /= 2.0 * pairs;

  std::vector<double> c0(n * n, 0.0), ct(n * n, 0.0), a(n), b(n);
  for (std::int64_t t = 0; t < pairs; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = x[t * dim + i] - model.mean[i];
      b[i] = x[(t + lag) * dim + i] - model.mean[i];
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i; j < n; ++j) {
        c0[i * n + j] += a[i] * a[j] + b[i] * b[j];
        ct[i * n + j] += a[i] * b[j] + b[i] * a[j];
      }
  }
  double trace = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i; j < n; ++j) {
      c0[i * n + j] = c0[j * n + i] = c0[i * n + j] / (2.0 * pairs);
      ct[i * n + j] = ct[j * n + i] = ct[i * n + j] / (2.0 * pairs);
    }
    trace += c0[i * n + i];
  }
  // Constant features (a rigid ring torsion) make C0 singular; the ridge keeps Cholesky defined.
  const double ridge = std::max(1e-6 * trace / dim, 1e-12);
  for (std::size_t i = 0; i < n; ++i) c0[i * n + i] += ridge;
  const std::vector<double> l = cholesky(c0, dim);

  // M = L⁻¹ Cτ L⁻ᵀ: forward substitution on the columns of Cτ, then on the columns of the transpose.
  auto solve_lower = [&](std::vector<double> m) {  // returns L⁻¹ m
    for (std::size_t col = 0; col < n; ++col)
      for (std::size_t i = 0; i < n; ++i) {
        double s = m[i * n + col];
        for (std::size_t k = 0; k < i; ++k) s -= l[i * n + k] * m[k * n + col];
        m[i * n + col] = s / l[i * n + i];
      }
    return m;
  };
  std::vector<double> y = solve_lower(ct), yt(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) yt[i * n + j] = y[j * n + i];
  std::vector<double> m = solve_lower(yt);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
  const SymmetricEigen eigen = symmetric_eigen(m, dim);
  model.eigenvalues = eigen.values;

  // v = L⁻ᵀ w: back substitution with Lᵀ on every eigenvector column.
  model.components = eigen.vectors;
  for (std::size_t col = 0; col < n; ++col)
    for (std::size_t i = n; i-- > 0;) {
      double s = model.components[i * n + col];
      for (std::size_t k = i + 1; k < n; ++k) s -= l[k * n + i] * model.components[k * n + col];
      model.components[i * n + col] = s / l[i * n + i];
    }
  return model;
}

std::vector<double> tica_project(const TicaModel& model, const std::vector<double>& x, std::int64_t frames,
                                 int count) {
  const int n = model.dim;
  count = std::min(count, n);
  std::vector<double> out(static_cast<std::size_t>(frames) * count, 0.0);
  for (std::int64_t f = 0; f < frames; ++f)
    for (int i = 0; i < n; ++i) {
      const double centred = x[f * n + i] - model.mean[i];
      for (int k = 0; k < count; ++k) out[f * count + k] += centred * model.components[i * n + k];
    }
  return out;
}

}  // namespace hemeplm::evaluate
