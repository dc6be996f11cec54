// Neighbour search: all atom pairs closer than a cutoff, optionally under periodic boundary conditions.
// The production path is a Kokkos cell list (O(N)); find_neighbors_brute_force is the O(N^2) reference
// it is tested against. Both return exactly the same list for the same input.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::decomposition {

/// Full neighbour list in CSR form: the neighbours of atom i are
/// neighbors[offsets[i] .. offsets[i+1]), sorted ascending, never i itself. Every pair appears twice
/// (j in i's list and i in j's). With a periodic box, images[e] is the lattice shift n such that the
/// displacement i -> j is  positions[j] + n0*a + n1*b + n2*c - positions[i]  (|d| < cutoff).
struct NeighborList {
  double cutoff = 0;
  std::vector<std::int64_t> offsets;               ///< size atom_count + 1
  std::vector<int> neighbors;                      ///< size edge_count()
  std::vector<std::array<std::int8_t, 3>> images;  ///< empty without a box, else size edge_count()

  int atom_count() const { return offsets.empty() ? 0 : static_cast<int>(offsets.size()) - 1; }
  std::int64_t edge_count() const { return static_cast<std::int64_t>(neighbors.size()); }
  Span<const int> neighbors_of(int i) const {
    return {neighbors.data() + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i])};
  }
  /// Displacement vector from atom i to its e-th edge partner (global edge index e), in Å.
  Vec3 displacement(Span<const Vec3> positions, const std::optional<Box>& box, int i, std::int64_t e) const;
};

/// Kokkos cell-list neighbour search. cutoff > 0 (Å). With a box, every perpendicular box width must
/// be at least 2 * cutoff (minimum-image convention); a UsageError says so otherwise.
NeighborList find_neighbors(Span<const Vec3> positions, double cutoff, const std::optional<Box>& box);

/// O(N^2) reference with the same contract and the same floating-point operations.
NeighborList find_neighbors_brute_force(Span<const Vec3> positions, double cutoff,
                                        const std::optional<Box>& box);

/// Pairs of atoms closer than `min_distance` (Å), each as (i, j) with i < j. Used to reject inputs
/// with duplicated or overlapping atoms.
std::vector<std::array<int, 2>> find_overlapping_atoms(Span<const Vec3> positions, double min_distance,
                                                       const std::optional<Box>& box);

}  // namespace hemeplm::decomposition
