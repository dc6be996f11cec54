// Internal to hemeplm_decomposition: the pair geometry shared by the Kokkos cell list, the O(N^2)
// reference and NeighborList::displacement. Both searches decide "is j a neighbour of i" with exactly
// these operations, in this order, so their results are bit-identical on the same hardware.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::decomposition::detail {

// Rounded arithmetic that no compiler may fuse into an FMA. nvcc contracts a*b+c by default, which
// would make a device search disagree with the host reference in the last bit right at the cutoff.
// (HIP offers the same intrinsics.) On hosts with FMA hardware (aarch64, -march=haswell) GCC's default
// -ffp-contract=fast may fuse too; both searches inline the same helpers and normally agree, but only
// -ffp-contract=off guarantees it there. Baseline x86-64 has no FMA, so nothing is fused.
KOKKOS_INLINE_FUNCTION double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
KOKKOS_INLINE_FUNCTION double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
KOKKOS_INLINE_FUNCTION double sub_rn(double a, double b) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}

/// A periodic cell in the form the kernels need; plain data so it can be captured by device code.
struct Lattice {
  double rows[3][3] = {};     ///< box vectors a, b, c as rows (Å)
  double inverse[3][3] = {};  ///< fractional = cartesian (row vector) * inverse
  double widths[3] = {};      ///< perpendicular widths (Å): volume / |b x c| etc.
};

struct Displacement {
  double x = 0, y = 0, z = 0;
};

KOKKOS_INLINE_FUNCTION double squared_length(const Displacement& d) {
  return add_rn(add_rn(mul_rn(d.x, d.x), mul_rn(d.y, d.y)), mul_rn(d.z, d.z));
}

/// positions[j] - positions[i] without a box. Exactly antisymmetric in (i, j) already.
KOKKOS_INLINE_FUNCTION Displacement free_displacement(double xi, double yi, double zi, double xj, double yj,
                                                      double zj) {
  return {sub_rn(xj, xi), sub_rn(yj, yi), sub_rn(zj, zi)};
}

/// Component k of the lattice translation n0*a + n1*b + n2*c.
KOKKOS_INLINE_FUNCTION double lattice_shift(const Lattice& lattice, int n0, int n1, int n2, int k) {
  return add_rn(add_rn(mul_rn(n0, lattice.rows[0][k]), mul_rn(n1, lattice.rows[1][k])),
                mul_rn(n2, lattice.rows[2][k]));
}

/// positions[j] + n.box - positions[i]. (p_j + s) - p_i and -((p_i - s) - p_j) can differ in the last
/// bit, so the value is always computed from the lower index to the higher one and negated when needed:
/// the i->j and j->i displacements are then exact negatives and the pair is accepted by both or neither.
KOKKOS_INLINE_FUNCTION Displacement periodic_displacement(const Lattice& lattice, int i, double xi, double yi,
                                                          double zi, int j, double xj, double yj, double zj,
                                                          int n0, int n1, int n2) {
  if (i < j) {
    return {sub_rn(add_rn(xj, lattice_shift(lattice, n0, n1, n2, 0)), xi),
            sub_rn(add_rn(yj, lattice_shift(lattice, n0, n1, n2, 1)), yi),
            sub_rn(add_rn(zj, lattice_shift(lattice, n0, n1, n2, 2)), zi)};
  }
  const Displacement back{sub_rn(add_rn(xi, lattice_shift(lattice, -n0, -n1, -n2, 0)), xj),
                          sub_rn(add_rn(yi, lattice_shift(lattice, -n0, -n1, -n2, 1)), yj),
                          sub_rn(add_rn(zi, lattice_shift(lattice, -n0, -n1, -n2, 2)), zj)};
  return {-back.x, -back.y, -back.z};
}

/// Image shifts are stored as int8 (NeighborList::images); larger ones mean badly unwrapped input.
constexpr int kMaxImage = 127;

/// Checks cutoff (finite, > 0) and that every position is finite; throws UsageError naming `caller`.
void check_search_input(const char* caller, Span<const Vec3> positions, double cutoff);

/// Validates the box (finite, positive volume, every perpendicular width >= 2 * cutoff, atoms within
/// a million box lengths of the origin) and returns it in kernel form. Throws UsageError.
Lattice make_lattice(const char* caller, const Box& box, double cutoff, Span<const Vec3> positions);

/// The UsageError thrown when a pair needs an image shift outside [-127, 127].
[[noreturn]] void throw_image_overflow(const char* caller, int i, int j);

}  // namespace hemeplm::decomposition::detail
