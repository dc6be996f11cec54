// Small dense linear algebra for evaluation: a cyclic Jacobi eigen-solver for symmetric matrices (TICA,
// superposition), Cholesky factorisation and Kabsch superposition through Horn's quaternion. Matrices are
// row-major std::vector<double>; sizes stay in the hundreds, so plain loops are fast enough.
#pragma once
#include <array>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

/// Eigenvalues (descending) and eigenvectors of a symmetric n x n matrix.
struct SymmetricEigen {
  std::vector<double> values;   ///< [n], descending
  std::vector<double> vectors;  ///< [n x n] row-major; column k is the unit eigenvector of values[k]
};

/// Cyclic one-sided Jacobi rotations until every pair of columns of the shifted matrix is orthogonal to
/// 1e-15 relative. The matrix must be symmetric (not checked). Eigenvalues are accurate to about 1e-15
/// times the largest absolute row sum.
SymmetricEigen symmetric_eigen(std::vector<double> matrix, int n);

/// Lower-triangular L with matrix = L L^T (row-major n x n). UsageError when the matrix is not
/// positive definite.
std::vector<double> cholesky(const std::vector<double>& matrix, int n);

/// A proper rotation and translation: x -> rotation * (x - mobile_center) + target_center.
struct Superposition {
  std::array<double, 9> rotation{1, 0, 0, 0, 1, 0, 0, 0, 1};  ///< row-major
  Vec3 mobile_center, target_center;
  Vec3 apply(const Vec3& x) const;
};

/// The rotation + translation that moves `mobile[atoms]` onto `target[atoms]` with the least squared
/// deviation (Kabsch; solved as Horn's 4x4 quaternion eigenproblem, so it is never a reflection).
Superposition superpose(Span<const Vec3> mobile, Span<const Vec3> target, const std::vector<int>& atoms);

/// Root-mean-square deviation (Å) of `atoms` after superposing mobile onto target.
double superposed_rmsd(Span<const Vec3> mobile, Span<const Vec3> target, const std::vector<int>& atoms);

}  // namespace hemeplm::evaluate
