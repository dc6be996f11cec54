// Overlapping (duplicated or clashing) atoms, found with the cell list.
#include <cmath>

#include "cell_list.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace hemeplm::decomposition {

std::vector<std::array<int, 2>> find_overlapping_atoms(Span<const Vec3> positions, double min_distance,
                                                       const std::optional<Box>& box) {
  if (std::isnan(min_distance) || std::isinf(min_distance)) {
    throw UsageError("find_overlapping_atoms: minimum distance must be a finite distance in Å");
  }
  std::vector<std::array<int, 2>> pairs;
  if (min_distance <= 0) return pairs;  // nothing is closer than zero: the check is switched off

  const NeighborList list =
      detail::find_neighbors_with("find_overlapping_atoms", positions, min_distance, box);
  for (int i = 0; i < list.atom_count(); ++i) {
    for (const int j : list.neighbors_of(i)) {
      if (j > i) pairs.push_back({i, j});
    }
  }
  return pairs;
}

}  // namespace hemeplm::decomposition
