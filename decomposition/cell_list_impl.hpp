// Body of detail::search_cells. Include only from the instantiation TU (cell_list.cpp).
//
// Steps, each a Kokkos kernel on the given execution space:
//   assign   atom -> cell (and, with a box, the lattice vector w that wraps it into [0, 1)^3)
//   offsets  exclusive scan of atoms per cell
//   bin      atoms sorted by cell (positions copied so a cell's atoms are contiguous)
//   count    partners per atom over the 27 surrounding cells
//   offsets  exclusive scan of the counts -> CSR offsets
//   fill     write partners and images, then sort each atom's partners ascending
// Binning order inside a cell depends on atomics, but every list is sorted at the end, so the result
// is the same on every backend and thread count.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <utility>

#include "cell_list.hpp"

namespace hemeplm::decomposition::detail {

/// Position of a point along grid axis k in cell units, before clamping to [0, counts); with a box
/// also the lattice wrap w = floor(fractional coordinate k).
KOKKOS_INLINE_FUNCTION double cell_coordinate(const CellGrid& grid, const double x, const double y,
                                              const double z, const int k, int& wrap) {
  if (!grid.periodic) {
    wrap = 0;
    return ((k == 0 ? x : (k == 1 ? y : z)) - grid.origin[k]) * grid.scale[k];
  }
  const double f =
      add_rn(add_rn(mul_rn(x, grid.lattice.inverse[0][k]), mul_rn(y, grid.lattice.inverse[1][k])),
             mul_rn(z, grid.lattice.inverse[2][k]));
  // floor without libm so the same code runs on every device; |f| < 1e6 (make_lattice).
  wrap = static_cast<int>(f);
  if (wrap > f) --wrap;
  return (f - wrap) * grid.counts[k];
}

struct CountTag {};
struct FillTag {};

/// The pair kernels. Slots are positions in the cell-sorted order; atoms are input indices.
template <class ExecutionSpace, bool Periodic>
struct CellPairs {
  using memory_space = typename ExecutionSpace::memory_space;

  Kokkos::View<const double* [3], memory_space> slot_position;
  Kokkos::View<const int*, memory_space> slot_atom;
  Kokkos::View<const int*, memory_space> slot_cell;
  Kokkos::View<const int*, memory_space> atom_slot;
  Kokkos::View<const int* [3], memory_space> slot_wrap;  // empty without a box
  Kokkos::View<const int*, memory_space> cell_start;     // cell_count + 1
  CellGrid grid;
  double cutoff2 = 0;

  Kokkos::View<int*, memory_space> counts;                  // per atom
  Kokkos::View<const std::int64_t*, memory_space> offsets;  // per atom + 1 (fill pass only)
  Kokkos::View<int*, memory_space> neighbors;
  Kokkos::View<std::int8_t* [3], memory_space> images;  // empty without a box
  Kokkos::View<int[3], memory_space> overflow;          // {flag, i, j}

  /// Calls visit(j, n0, n1, n2, within) for every candidate j != i in the cells around the atom in
  /// `slot`; within says whether positions[j] + n.box - positions[i] is closer than the cutoff. Passing
  /// the test as a value rather than calling only for partners keeps the fill loop free of a branch
  /// that mispredicts on most partners.
  template <class Visit>
  KOKKOS_INLINE_FUNCTION void for_each_candidate(const int slot, const Visit& visit) const {
    const int i = slot_atom(slot);
    const double xi = slot_position(slot, 0), yi = slot_position(slot, 1), zi = slot_position(slot, 2);
    const int cell = slot_cell(slot);
    const int nx = grid.counts[0], ny = grid.counts[1], nz = grid.counts[2];
    const int home[3] = {cell % nx, (cell / nx) % ny, cell / (nx * ny)};
    int wi[3] = {0, 0, 0};
    if constexpr (Periodic) {
      for (int k = 0; k < 3; ++k) wi[k] = slot_wrap(slot, k);
    }
    // Squared distances from the atom to the lower and upper faces of its cell, so rows and cells that
    // cannot hold a partner are skipped (about a quarter of the stencil volume). Zero (no pruning)
    // for triclinic boxes, where the faces are not perpendicular and the squares do not add up.
    double below[3] = {0, 0, 0}, above[3] = {0, 0, 0};
    if (grid.orthogonal) face_distances(xi, yi, zi, home, below, above);

    for (int dz = -1; dz <= 1; ++dz) {
      int z = home[2] + dz, tz = 0;
      if (!wrap_axis(z, tz, nz)) continue;
      for (int dy = -1; dy <= 1; ++dy) {
        int y = home[1] + dy, ty = 0;
        if (!wrap_axis(y, ty, ny)) continue;
        const int row = (z * ny + y) * nx;
        const double left = cutoff2 - (dz < 0 ? below[2] : (dz > 0 ? above[2] : 0)) -
                            (dy < 0 ? below[1] : (dy > 0 ? above[1] : 0));
        if (left <= 0) continue;
        if constexpr (!Periodic) {
          // The (up to) three cells of an x row are contiguous in slot order: one loop, not three.
          const int first = home[0] > 0 && below[0] < left ? home[0] - 1 : home[0];
          const int last = home[0] + 1 < nx && above[0] < left ? home[0] + 1 : home[0];
          for (int s = cell_start(row + first); s < cell_start(row + last + 1); ++s) {
            const int j = slot_atom(s);
            if (j == i) continue;
            const Displacement d =
                free_displacement(xi, yi, zi, slot_position(s, 0), slot_position(s, 1), slot_position(s, 2));
            visit(j, 0, 0, 0, squared_length(d) < cutoff2);
          }
        } else {
          for (int dx = -1; dx <= 1; ++dx) {
            if ((dx < 0 && below[0] >= left) || (dx > 0 && above[0] >= left)) continue;
            int x = home[0] + dx, tx = 0;
            wrap_axis(x, tx, nx);
            for (int s = cell_start(row + x); s < cell_start(row + x + 1); ++s) {
              // Image of j next to i: its wrapped position plus t cells' worth of lattice; in the
              // unwrapped input coordinates that is the lattice shift n = w_i - w_j + t.
              const int j = slot_atom(s);
              const int n0 = wi[0] - slot_wrap(s, 0) + tx;
              const int n1 = wi[1] - slot_wrap(s, 1) + ty;
              const int n2 = wi[2] - slot_wrap(s, 2) + tz;
              if (j == i && n0 == 0 && n1 == 0 && n2 == 0) continue;
              const Displacement d =
                  periodic_displacement(grid.lattice, i, xi, yi, zi, j, slot_position(s, 0),
                                        slot_position(s, 1), slot_position(s, 2), n0, n1, n2);
              visit(j, n0, n1, n2, squared_length(d) < cutoff2);
            }
          }
        }
      }
    }
  }

  /// Squared distances (Å^2) from a point to the lower and upper faces of its cell along each axis,
  /// made smaller by 1e-7 cell widths so that rounding can only make the pruning keep a cell, never
  /// drop one that holds a partner. Axes with one cell have no neighbouring cells and keep 0.
  KOKKOS_INLINE_FUNCTION void face_distances(const double x, const double y, const double z,
                                             const int home[3], double below[3], double above[3]) const {
    for (int k = 0; k < 3; ++k) {
      if (grid.counts[k] == 1) continue;
      int wrap;
      const double inside = cell_coordinate(grid, x, y, z, k, wrap) - home[k];  // as binned
      const double low = inside - 1e-7 > 0 ? (inside - 1e-7) * grid.cell_width[k] : 0;
      const double high = 1 - inside - 1e-7 > 0 ? (1 - inside - 1e-7) * grid.cell_width[k] : 0;
      below[k] = low * low;
      above[k] = high * high;
    }
  }

  /// Moves a stencil coordinate back into [0, n); false if it falls off a non-periodic grid. With a
  /// box, t records the lattice translation. Even with n = 1 or 2 the three offsets give three
  /// different (cell, t), i.e. three different images, so no pair is visited twice.
  KOKKOS_INLINE_FUNCTION static bool wrap_axis(int& c, int& t, const int n) {
    if (c >= 0 && c < n) return true;
    if constexpr (!Periodic) {
      return false;
    } else {
      t = c < 0 ? -1 : 1;
      c -= t * n;
      return true;
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(CountTag, const int i) const {
    int count = 0;
    for_each_candidate(atom_slot(i),
                       [&](const int j, const int n0, const int n1, const int n2, const bool within) {
                         count += within;
                         if (within && (n0 < -kMaxImage || n0 > kMaxImage || n1 < -kMaxImage ||
                                        n1 > kMaxImage || n2 < -kMaxImage || n2 > kMaxImage)) {
                           if (Kokkos::atomic_compare_exchange(&overflow(0), 0, 1) == 0) {
                             overflow(1) = i;
                             overflow(2) = j;
                           }
                         }
                       });
    counts(i) = count;
  }

  KOKKOS_INLINE_FUNCTION void operator()(FillTag, const int i) const {
    const std::int64_t begin = offsets(i), end = offsets(i + 1);
    std::int64_t e = begin;
    for_each_candidate(atom_slot(i),
                       [&](const int j, const int n0, const int n1, const int n2, const bool within) {
                         // Every candidate is written to the next free edge and kept only if within the
                         // cutoff; a rejected one is overwritten by the next partner (there is one whenever e
                         // < end).
                         if (e < end) {
                           neighbors(e) = j;
                           if constexpr (Periodic) {
                             images(e, 0) = static_cast<std::int8_t>(n0);
                             images(e, 1) = static_cast<std::int8_t>(n1);
                             images(e, 2) = static_cast<std::int8_t>(n2);
                           }
                         }
                         e += within;
                       });
    sort_partners(begin, end);
  }

  KOKKOS_INLINE_FUNCTION void swap_edges(const std::int64_t a, const std::int64_t b) const {
    const int j = neighbors(a);
    neighbors(a) = neighbors(b);
    neighbors(b) = j;
    if constexpr (Periodic) {
      for (int k = 0; k < 3; ++k) {
        const std::int8_t n = images(a, k);
        images(a, k) = images(b, k);
        images(b, k) = n;
      }
    }
  }

  /// Sorts edges [begin, end) by partner index (partners are unique, so the order is total).
  /// Insertion sort for the usual few dozen partners, heap sort (O(k log k), no extra memory, fine on
  /// a GPU thread) when a huge cutoff makes lists long.
  KOKKOS_INLINE_FUNCTION void sort_partners(const std::int64_t begin, const std::int64_t end) const {
    const std::int64_t size = end - begin;
    if (size <= 64) {
      for (std::int64_t a = begin + 1; a < end; ++a) {
        const int key = neighbors(a);
        if (neighbors(a - 1) < key) continue;
        std::int8_t image[3] = {0, 0, 0};
        if constexpr (Periodic) {
          for (int k = 0; k < 3; ++k) image[k] = images(a, k);
        }
        std::int64_t b = a;
        for (; b > begin && neighbors(b - 1) > key; --b) {
          neighbors(b) = neighbors(b - 1);
          if constexpr (Periodic) {
            for (int k = 0; k < 3; ++k) images(b, k) = images(b - 1, k);
          }
        }
        neighbors(b) = key;
        if constexpr (Periodic) {
          for (int k = 0; k < 3; ++k) images(b, k) = image[k];
        }
      }
      return;
    }
    for (std::int64_t root = size / 2 - 1; root >= 0; --root) sift_down(begin, root, size);
    for (std::int64_t last = size - 1; last > 0; --last) {
      swap_edges(begin, begin + last);
      sift_down(begin, 0, last);
    }
  }

  KOKKOS_INLINE_FUNCTION void sift_down(const std::int64_t base, std::int64_t root,
                                        const std::int64_t size) const {
    for (std::int64_t child = 2 * root + 1; child < size; child = 2 * root + 1) {
      if (child + 1 < size && neighbors(base + child) < neighbors(base + child + 1)) ++child;
      if (!(neighbors(base + root) < neighbors(base + child))) return;
      swap_edges(base + root, base + child);
      root = child;
    }
  }
};

/// Cell of one atom; with a box also its wrap w = floor(fractional coordinates).
KOKKOS_INLINE_FUNCTION int cell_of_point(const CellGrid& grid, const double x, const double y, const double z,
                                         int wrap[3]) {
  int g[3];
  for (int k = 0; k < 3; ++k) {
    const double u = cell_coordinate(grid, x, y, z, k, wrap[k]);
    // Rounding can put u a hair outside [0, counts): clamp rather than index out of range.
    const int c = static_cast<int>(u);
    g[k] = c < 0 ? 0 : (c >= grid.counts[k] ? grid.counts[k] - 1 : c);
  }
  return (g[2] * grid.counts[1] + g[1]) * grid.counts[0] + g[0];
}

template <class ExecutionSpace, bool Periodic>
NeighborList search_cells_impl(const ExecutionSpace& space, const char* caller, Span<const Vec3> positions,
                               const double cutoff, const CellGrid& grid) {
  using memory_space = typename ExecutionSpace::memory_space;
  using Int = Kokkos::IndexType<int>;
  const int atoms = static_cast<int>(positions.size());
  const int cells = static_cast<int>(grid.cell_count());

  Kokkos::View<double* [3], memory_space> position("hemeplm::decomposition::CellList::position", atoms);
  {
    auto host = Kokkos::create_mirror_view(position);
    for (int i = 0; i < atoms; ++i) {
      for (int k = 0; k < 3; ++k) host(i, k) = positions[i][k];
    }
    Kokkos::deep_copy(position, host);
  }

  // Assign atoms to cells.
  Kokkos::View<int*, memory_space> atom_cell("hemeplm::decomposition::CellList::atom_cell", atoms);
  Kokkos::View<int* [3], memory_space> atom_wrap("hemeplm::decomposition::CellList::atom_wrap",
                                                 Periodic ? atoms : 0);
  Kokkos::View<int*, memory_space> cell_size("hemeplm::decomposition::CellList::cell_size", cells);
  Kokkos::parallel_for(
      "hemeplm::decomposition::CellList::assign", Kokkos::RangePolicy<ExecutionSpace, Int>(space, 0, atoms),
      KOKKOS_LAMBDA(const int i) {
        int wrap[3];
        const int c = cell_of_point(grid, position(i, 0), position(i, 1), position(i, 2), wrap);
        atom_cell(i) = c;
        if constexpr (Periodic) {
          for (int k = 0; k < 3; ++k) atom_wrap(i, k) = wrap[k];
        }
        Kokkos::atomic_fetch_add(&cell_size(c), 1);
      });

  Kokkos::View<int*, memory_space> cell_start("hemeplm::decomposition::CellList::cell_start", cells + 1);
  Kokkos::parallel_scan(
      "hemeplm::decomposition::CellList::cell_offsets",
      Kokkos::RangePolicy<ExecutionSpace, Int>(space, 0, cells + 1),
      KOKKOS_LAMBDA(const int c, int& running, const bool final) {
        const int here = c < cells ? cell_size(c) : 0;
        if (final) cell_start(c) = running;
        running += here;
      });

  // Bin: copy each atom into its cell's contiguous range.
  Kokkos::View<double* [3], memory_space> slot_position("hemeplm::decomposition::CellList::slot_position",
                                                        atoms);
  Kokkos::View<int*, memory_space> slot_atom("hemeplm::decomposition::CellList::slot_atom", atoms);
  Kokkos::View<int*, memory_space> slot_cell("hemeplm::decomposition::CellList::slot_cell", atoms);
  Kokkos::View<int*, memory_space> atom_slot("hemeplm::decomposition::CellList::atom_slot", atoms);
  Kokkos::View<int* [3], memory_space> slot_wrap("hemeplm::decomposition::CellList::slot_wrap",
                                                 Periodic ? atoms : 0);
  Kokkos::View<int*, memory_space> cell_cursor("hemeplm::decomposition::CellList::cell_cursor", cells);
  Kokkos::parallel_for(
      "hemeplm::decomposition::CellList::bin", Kokkos::RangePolicy<ExecutionSpace, Int>(space, 0, atoms),
      KOKKOS_LAMBDA(const int i) {
        const int c = atom_cell(i);
        const int slot = cell_start(c) + Kokkos::atomic_fetch_add(&cell_cursor(c), 1);
        slot_atom(slot) = i;
        atom_slot(i) = slot;
        slot_cell(slot) = c;
        for (int k = 0; k < 3; ++k) slot_position(slot, k) = position(i, k);
        if constexpr (Periodic) {
          for (int k = 0; k < 3; ++k) slot_wrap(slot, k) = atom_wrap(i, k);
        }
      });

  CellPairs<ExecutionSpace, Periodic> pairs;
  pairs.slot_position = slot_position;
  pairs.slot_atom = slot_atom;
  pairs.slot_cell = slot_cell;
  pairs.atom_slot = atom_slot;
  pairs.slot_wrap = slot_wrap;
  pairs.cell_start = cell_start;
  pairs.grid = grid;
  pairs.cutoff2 = cutoff * cutoff;
  pairs.counts = Kokkos::View<int*, memory_space>("hemeplm::decomposition::CellList::counts", atoms);
  pairs.overflow = Kokkos::View<int[3], memory_space>("hemeplm::decomposition::CellList::overflow");

  // Pass 1: count partners.
  Kokkos::parallel_for("hemeplm::decomposition::CellList::count",
                       Kokkos::RangePolicy<ExecutionSpace, CountTag, Int>(space, 0, atoms), pairs);
  {
    auto overflow = Kokkos::create_mirror_view(pairs.overflow);
    Kokkos::deep_copy(overflow, pairs.overflow);
    if (overflow(0) != 0) throw_image_overflow(caller, overflow(1), overflow(2));
  }

  Kokkos::View<std::int64_t*, memory_space> offsets("hemeplm::decomposition::CellList::offsets", atoms + 1);
  const auto counts = pairs.counts;
  Kokkos::parallel_scan(
      "hemeplm::decomposition::CellList::edge_offsets",
      Kokkos::RangePolicy<ExecutionSpace, Int>(space, 0, atoms + 1),
      KOKKOS_LAMBDA(const int i, std::int64_t& running, const bool final) {
        const std::int64_t here = i < atoms ? counts(i) : 0;
        if (final) offsets(i) = running;
        running += here;
      });
  std::int64_t edges = 0;
  Kokkos::deep_copy(edges, Kokkos::subview(offsets, atoms));

  // Pass 2: fill and sort.
  pairs.offsets = offsets;
  pairs.neighbors = Kokkos::View<int*, memory_space>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "hemeplm::decomposition::CellList::neighbors"), edges);
  pairs.images = Kokkos::View<std::int8_t* [3], memory_space>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "hemeplm::decomposition::CellList::images"),
      Periodic ? edges : 0);
  Kokkos::parallel_for("hemeplm::decomposition::CellList::fill",
                       Kokkos::RangePolicy<ExecutionSpace, FillTag, Int>(space, 0, atoms), pairs);

  NeighborList list;
  list.cutoff = cutoff;
  {
    auto host = Kokkos::create_mirror_view(offsets);
    Kokkos::deep_copy(host, offsets);
    list.offsets.assign(host.data(), host.data() + atoms + 1);
  }
  {
    auto host = Kokkos::create_mirror_view(pairs.neighbors);
    Kokkos::deep_copy(host, pairs.neighbors);
    list.neighbors.assign(host.data(), host.data() + edges);
  }
  if constexpr (Periodic) {
    auto host = Kokkos::create_mirror_view(pairs.images);
    Kokkos::deep_copy(host, pairs.images);
    list.images.resize(static_cast<std::size_t>(edges));
    for (std::int64_t e = 0; e < edges; ++e) {
      for (int k = 0; k < 3; ++k) list.images[e][k] = host(e, k);
    }
  }
  return list;
}

template <class ExecutionSpace>
NeighborList search_cells(const ExecutionSpace& space, const char* caller, Span<const Vec3> positions,
                          const double cutoff, const CellGrid& grid) {
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename ExecutionSpace::memory_space>::accessible,
                "the cell list keeps its Views in the execution space's own memory space");
  if (positions.empty()) {
    NeighborList list;
    list.cutoff = cutoff;
    list.offsets.assign(1, 0);
    return list;
  }
  if (grid.periodic) return search_cells_impl<ExecutionSpace, true>(space, caller, positions, cutoff, grid);
  return search_cells_impl<ExecutionSpace, false>(space, caller, positions, cutoff, grid);
}

}  // namespace hemeplm::decomposition::detail
