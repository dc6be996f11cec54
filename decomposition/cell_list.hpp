// Internal to hemeplm_decomposition: the Kokkos cell-list neighbour search, templated on the execution
// space (its memory space holds every View). The body lives in cell_list_impl.hpp; cell_list.cpp
// instantiates it for Kokkos::DefaultExecutionSpace, which is what find_neighbors uses.
#pragma once

#include <cstdint>
#include <optional>

#include "hemeplm/decomposition/neighbor_list.hpp"
#include "neighbor_geometry.hpp"

namespace hemeplm::decomposition::detail {

/// How atoms are binned. Every cell is at least `cutoff` wide (perpendicular width for a lattice), so
/// all partners of an atom lie in the 27 cells around its own: a +-1 stencil is always enough.
struct CellGrid {
  int counts[3] = {1, 1, 1};  ///< cells along each axis (Cartesian, or a/b/c for a lattice)
  double origin[3] = {};      ///< without a box: lower corner of the bounding box (Å)
  double scale[3] = {};       ///< without a box: cells per Å along each axis (0 for a flat axis)
  double cell_width[3] = {};  ///< perpendicular width of a cell along each axis (Å)
  bool orthogonal = true;     ///< axes perpendicular (no box, or an orthorhombic one)
  bool periodic = false;
  Lattice lattice;  ///< with a box: cells are slices of fractional coordinates [0, 1)

  std::int64_t cell_count() const {
    return static_cast<std::int64_t>(counts[0]) * counts[1] * static_cast<std::int64_t>(counts[2]);
  }
};

/// Cells for these positions. At most `max_cells` cells (>= 1) so memory stays O(atoms) however far
/// apart the atoms are; fewer, larger cells are still correct, only slower.
CellGrid make_cell_grid(Span<const Vec3> positions, double cutoff, const std::optional<Lattice>& lattice,
                        std::int64_t max_cells);

/// The cap find_neighbors uses: about two cells per atom.
std::int64_t default_max_cells(std::size_t atom_count);

/// Cell-list search on `space`. Inputs must already be validated (check_search_input, make_lattice).
/// `caller` names the public function in error messages.
template <class ExecutionSpace>
NeighborList search_cells(const ExecutionSpace& space, const char* caller, Span<const Vec3> positions,
                          double cutoff, const CellGrid& grid);

extern template NeighborList search_cells<Kokkos::DefaultExecutionSpace>(const Kokkos::DefaultExecutionSpace&,
                                                                         const char*, Span<const Vec3>,
                                                                         double, const CellGrid&);

/// Validates and runs the search on the default execution space (find_neighbors and overlap checks).
NeighborList find_neighbors_with(const char* caller, Span<const Vec3> positions, double cutoff,
                                 const std::optional<Box>& box);

}  // namespace hemeplm::decomposition::detail
