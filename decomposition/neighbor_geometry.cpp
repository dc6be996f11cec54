#include "neighbor_geometry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "hemeplm/core/error.hpp"

namespace hemeplm::decomposition::detail {

namespace {

// Beyond this many box lengths from the origin, fractional coordinates lose the precision that the
// cell assignment needs (and image shifts overflow int8 long before): the input must be wrapped.
constexpr double kMaxBoxLengthsFromOrigin = 1e6;

std::string format_length(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

}  // namespace

void check_search_input(const char* caller, Span<const Vec3> positions, double cutoff) {
  if (!(cutoff > 0) || !std::isfinite(cutoff)) {
    throw UsageError(std::string(caller) + ": cutoff must be a positive finite distance in Å, got " +
                     format_length(cutoff));
  }
  if (positions.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw UsageError(std::string(caller) + ": " + std::to_string(positions.size()) +
                     " atoms is more than a neighbour list can index (2^31 - 1)");
  }
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (!is_finite(positions[i])) {
      throw UsageError(std::string(caller) + ": position of atom " + std::to_string(i) +
                       " is not finite (NaN or infinity)");
    }
  }
}

Lattice make_lattice(const char* caller, const Box& box, double cutoff, Span<const Vec3> positions) {
  const Vec3& a = box.vectors[0];
  const Vec3& b = box.vectors[1];
  const Vec3& c = box.vectors[2];
  const Vec3 cross_bc = cross(b, c), cross_ca = cross(c, a), cross_ab = cross(a, b);
  const double det = dot(a, cross_bc);
  if (!is_finite(a) || !is_finite(b) || !is_finite(c) || !std::isfinite(det) || det == 0) {
    throw UsageError(std::string(caller) + ": periodic box vectors are degenerate or not finite (volume " +
                     format_length(det) + " Å^3)");
  }

  Lattice lattice;
  const double volume = std::abs(det);
  lattice.widths[0] = volume / norm(cross_bc);
  lattice.widths[1] = volume / norm(cross_ca);
  lattice.widths[2] = volume / norm(cross_ab);
  const double smallest = std::min({lattice.widths[0], lattice.widths[1], lattice.widths[2]});
  if (!(smallest >= 2 * cutoff)) {
    throw UsageError(std::string(caller) + ": periodic box too small for cutoff " + format_length(cutoff) +
                     " Å: perpendicular widths are " + format_length(lattice.widths[0]) + ", " +
                     format_length(lattice.widths[1]) + ", " + format_length(lattice.widths[2]) +
                     " Å, and each must be at least 2 x cutoff = " + format_length(2 * cutoff) +
                     " Å (minimum-image convention)");
  }

  for (int k = 0; k < 3; ++k) {
    lattice.rows[0][k] = a[k];
    lattice.rows[1][k] = b[k];
    lattice.rows[2][k] = c[k];
    // Columns of the inverse are the reciprocal vectors: f_k = p . (cross_k) / det.
    lattice.inverse[k][0] = cross_bc[k] / det;
    lattice.inverse[k][1] = cross_ca[k] / det;
    lattice.inverse[k][2] = cross_ab[k] / det;
  }

  // |f_k| <= |p| / width_k, so bounding |p| bounds every fractional coordinate.
  double largest = 0;
  for (const Vec3& p : positions) largest = std::max(largest, norm(p));
  if (largest / smallest > kMaxBoxLengthsFromOrigin) {
    throw UsageError(std::string(caller) + ": an atom lies " + format_length(largest) +
                     " Å from the origin, more than a million box widths; wrap the coordinates into the box");
  }
  return lattice;
}

void throw_image_overflow(const char* caller, int i, int j) {
  throw UsageError(std::string(caller) + ": atoms " + std::to_string(i) + " and " + std::to_string(j) +
                   " are neighbours only through a periodic image more than " + std::to_string(kMaxImage) +
                   " box vectors away; wrap the coordinates into the box");
}

}  // namespace hemeplm::decomposition::detail
