// Public entry points of the neighbour search: the Kokkos cell list and NeighborList::displacement.
#include "hemeplm/decomposition/neighbor_list.hpp"

#include "cell_list.hpp"
#include "hemeplm/core/error.hpp"
#include "neighbor_geometry.hpp"

namespace hemeplm::decomposition {

NeighborList find_neighbors(Span<const Vec3> positions, double cutoff, const std::optional<Box>& box) {
  return detail::find_neighbors_with("find_neighbors", positions, cutoff, box);
}

Vec3 NeighborList::displacement(Span<const Vec3> positions, const std::optional<Box>& box, int i,
                                std::int64_t e) const {
  const int j = neighbors[e];
  const Vec3& pi = positions[i];
  const Vec3& pj = positions[j];
  if (images.empty()) {
    const detail::Displacement d = detail::free_displacement(pi.x, pi.y, pi.z, pj.x, pj.y, pj.z);
    return {d.x, d.y, d.z};
  }
  if (!box) {
    throw UsageError(
        "NeighborList::displacement: the list was built with a periodic box, so the box is needed");
  }
  // Only the rows are used; the list was validated against this box when it was built.
  detail::Lattice lattice;
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 3; ++k) lattice.rows[r][k] = box->vectors[r][k];
  }
  const auto& n = images[e];
  const detail::Displacement d =
      detail::periodic_displacement(lattice, i, pi.x, pi.y, pi.z, j, pj.x, pj.y, pj.z, n[0], n[1], n[2]);
  return {d.x, d.y, d.z};
}

}  // namespace hemeplm::decomposition
