// Cell-grid construction and the instantiation of the Kokkos cell list for the default execution space.
#include "cell_list.hpp"

#include <algorithm>
#include <cmath>

#include "cell_list_impl.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::decomposition::detail {

namespace {

// Cells are made this much wider than the cutoff so that rounding in the cell assignment (relative
// 1e-16 of the coordinates) can never push a true pair two cells apart.
constexpr double kCellMargin = 1e-9;

// Cells along each axis for a common coarsening factor s (s = 1: cells as small as allowed).
double cells_for(const double desired[3], double s) {
  double product = 1;
  for (int k = 0; k < 3; ++k) product *= std::max(1.0, std::floor(desired[k] / s));
  return product;
}

}  // namespace

std::int64_t default_max_cells(std::size_t atom_count) {
  return 2 * static_cast<std::int64_t>(atom_count) + 27;
}

CellGrid make_cell_grid(Span<const Vec3> positions, double cutoff, const std::optional<Lattice>& lattice,
                        std::int64_t max_cells) {
  CellGrid grid;
  const double smallest_cell = cutoff * (1 + kCellMargin);
  double desired[3] = {1, 1, 1};
  double extent[3] = {0, 0, 0};
  if (lattice) {
    grid.periodic = true;
    grid.lattice = *lattice;
    for (int r = 0; r < 3; ++r) {
      for (int k = 0; k < 3; ++k) grid.orthogonal = grid.orthogonal && (r == k || lattice->rows[r][k] == 0);
    }
    for (int k = 0; k < 3; ++k) desired[k] = lattice->widths[k] / smallest_cell;
  } else if (!positions.empty()) {
    // A grid over the bounding box: no cells where there can be no atoms.
    Vec3 lo = positions[0], hi = positions[0];
    for (const Vec3& p : positions) {
      lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
      hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
    }
    for (int k = 0; k < 3; ++k) {
      grid.origin[k] = lo[k];
      extent[k] = hi[k] - lo[k];
      desired[k] = extent[k] / smallest_cell;
    }
  }

  // Sparse or far-flung atoms (or a huge box) would ask for far more cells than atoms; coarsen all
  // axes by the smallest common factor that brings the total under the cap (bisection in log space).
  const double cap = static_cast<double>(std::max<std::int64_t>(1, max_cells));
  double coarsen = 1;
  if (cells_for(desired, 1) > cap) {
    double fine = 1, coarse = std::max({desired[0], desired[1], desired[2], 1.0}) * 2;
    for (int iteration = 0; iteration < 200; ++iteration) {
      const double middle = std::sqrt(fine * coarse);
      (cells_for(desired, middle) <= cap ? coarse : fine) = middle;
    }
    coarsen = coarse;
  }
  for (int k = 0; k < 3; ++k) {
    grid.counts[k] = static_cast<int>(std::max(1.0, std::floor(desired[k] / coarsen)));
    grid.scale[k] = extent[k] > 0 ? grid.counts[k] / extent[k] : 0;
    grid.cell_width[k] = (lattice ? lattice->widths[k] : extent[k]) / grid.counts[k];
  }
  return grid;
}

template NeighborList search_cells<Kokkos::DefaultExecutionSpace>(const Kokkos::DefaultExecutionSpace&,
                                                                  const char*, Span<const Vec3>, double,
                                                                  const CellGrid&);

NeighborList find_neighbors_with(const char* caller, Span<const Vec3> positions, double cutoff,
                                 const std::optional<Box>& box) {
  check_search_input(caller, positions, cutoff);
  std::optional<Lattice> lattice;
  if (box) lattice = make_lattice(caller, *box, cutoff, positions);
  if (!Kokkos::is_initialized()) {
    throw Error(
        std::string(caller) +
        ": Kokkos is not initialised; keep a hemeplm::decomposition::KokkosRuntime alive around the call");
  }
  const CellGrid grid = make_cell_grid(positions, cutoff, lattice, default_max_cells(positions.size()));
  return search_cells(Kokkos::DefaultExecutionSpace(), caller, positions, cutoff, grid);
}

}  // namespace hemeplm::decomposition::detail
