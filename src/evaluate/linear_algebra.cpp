// Jacobi eigen-solver, Cholesky and quaternion superposition (see linear_algebra.hpp).
#include "hemeplm/evaluate/linear_algebra.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "hemeplm/core/error.hpp"

namespace hemeplm::evaluate {

SymmetricEigen symmetric_eigen(std::vector<double> a, int n) {
  // One-sided (Hestenes) Jacobi: shifted to B = A + σI, positive semi-definite by Gershgorin, B's columns
  // are made orthogonal by plane rotations B <- BJ, V <- VJ. Then BV = UΣ is B's SVD, which for a
  // positive semi-definite matrix is its eigendecomposition: eigenvalues |column| − σ, eigenvectors V.
  // Columns are stored as rows (B is symmetric), so every rotation runs along contiguous memory.
  double shift = 0;
  for (int i = 0; i < n; ++i) {
    double row = 0;
    for (int j = 0; j < n; ++j) row += std::abs(a[i * n + j]);
    shift = std::max(shift, row);
  }
  for (int i = 0; i < n; ++i) a[i * n + i] += shift;
  std::vector<double> vt(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) vt[i * n + i] = 1.0;
  auto dot_rows = [n](const double* x, const double* y) {
    double sum = 0;
    for (int k = 0; k < n; ++k) sum += x[k] * y[k];
    return sum;
  };
  auto rotate = [n](double* x, double* y, double c, double s) {
    for (int k = 0; k < n; ++k) {
      const double xk = x[k], yk = y[k];
      x[k] = c * xk - s * yk;
      y[k] = s * xk + c * yk;
    }
  };
  std::vector<double> norm2(n);  // squared column norms, updated with each rotation
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (int k = 0; k < n; ++k) norm2[k] = dot_rows(a.data() + k * n, a.data() + k * n);
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        double* bp = a.data() + p * n;
        double* bq = a.data() + q * n;
        const double alpha = norm2[p], beta = norm2[q], gamma = dot_rows(bp, bq);
        if (std::abs(gamma) <= 1e-15 * std::sqrt(alpha * beta) || gamma == 0.0) continue;
        rotated = true;
        // (c b_p − s b_q)·(s b_p + c b_q) = 0; t = tan φ is the smaller root of t² + 2ζt − 1 = 0.
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(zeta * zeta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        rotate(bp, bq, c, s);
        rotate(vt.data() + p * n, vt.data() + q * n, c, s);
        norm2[p] = alpha - t * gamma;  // the rotation moves t·γ of squared norm from p to q
        norm2[q] = beta + t * gamma;
      }
    }
    if (!rotated) break;
  }
  std::vector<double> values(n);
  for (int k = 0; k < n; ++k) values[k] = std::sqrt(dot_rows(a.data() + k * n, a.data() + k * n)) - shift;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return values[i] > values[j]; });
  SymmetricEigen result;
  result.values.resize(n);
  result.vectors.resize(vt.size());
  for (int k = 0; k < n; ++k) {
    result.values[k] = values[order[k]];
    for (int i = 0; i < n; ++i) result.vectors[i * n + k] = vt[order[k] * n + i];
  }
  return result;
}

std::vector<double> cholesky(const std::vector<double>& m, int n) {
  std::vector<double> l(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      double sum = m[i * n + j];
      for (int k = 0; k < j; ++k) sum -= l[i * n + k] * l[j * n + k];
      if (i == j) {
        if (!(sum > 0))
          throw UsageError("cholesky: the matrix is not positive definite (pivot " + std::to_string(i) + ")");
        l[i * n + i] = std::sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  return l;
}

Vec3 Superposition::apply(const Vec3& x) const {
  const Vec3 d = x - mobile_center;
  const auto& r = rotation;
  return Vec3{r[0] * d.x + r[1] * d.y + r[2] * d.z, r[3] * d.x + r[4] * d.y + r[5] * d.z,
              r[6] * d.x + r[7] * d.y + r[8] * d.z} +
         target_center;
}

Superposition superpose(Span<const Vec3> mobile, Span<const Vec3> target, const std::vector<int>& atoms) {
  Superposition result;
  if (atoms.empty()) return result;
  for (int i : atoms) {
    result.mobile_center += mobile[i];
    result.target_center += target[i];
  }
  result.mobile_center *= 1.0 / atoms.size();
  result.target_center *= 1.0 / atoms.size();
  // Correlation S_ab = Σ x_a y_b of the centred points.
  double s[3][3] = {};
  for (int i : atoms) {
    const Vec3 x = mobile[i] - result.mobile_center, y = target[i] - result.target_center;
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q) s[p][q] += x[p] * y[q];
  }
  // Horn (1987): the unit quaternion of the best rotation is the top eigenvector of this 4x4 matrix.
  const double xx = s[0][0], xy = s[0][1], xz = s[0][2], yx = s[1][0], yy = s[1][1], yz = s[1][2],
               zx = s[2][0], zy = s[2][1], zz = s[2][2];
  const std::vector<double> n4 = {xx + yy + zz, yz - zy,      zx - xz,       xy - yx,  //
                                  yz - zy,      xx - yy - zz, xy + yx,       zx + xz,  //
                                  zx - xz,      xy + yx,      -xx + yy - zz, yz + zy,  //
                                  xy - yx,      zx + xz,      yz + zy,       -xx - yy + zz};
  const SymmetricEigen eigen = symmetric_eigen(n4, 4);
  const double q0 = eigen.vectors[0], q1 = eigen.vectors[4], q2 = eigen.vectors[8], q3 = eigen.vectors[12];
  result.rotation = {q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3,
                     2 * (q1 * q2 - q0 * q3),
                     2 * (q1 * q3 + q0 * q2),
                     2 * (q1 * q2 + q0 * q3),
                     q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3,
                     2 * (q2 * q3 - q0 * q1),
                     2 * (q1 * q3 - q0 * q2),
                     2 * (q2 * q3 + q0 * q1),
                     q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3};
  return result;
}

double superposed_rmsd(Span<const Vec3> mobile, Span<const Vec3> target, const std::vector<int>& atoms) {
  if (atoms.empty()) return 0.0;
  const Superposition fit = superpose(mobile, target, atoms);
  double sum = 0;
  for (int i : atoms) sum += norm2(fit.apply(mobile[i]) - target[i]);
  return std::sqrt(sum / atoms.size());
}

}  // namespace hemeplm::evaluate
