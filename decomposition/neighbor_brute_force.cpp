// The O(N^2) reference of find_neighbors: every pair once, the same pair geometry, plain loops.
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "hemeplm/decomposition/neighbor_list.hpp"
#include "neighbor_geometry.hpp"

namespace hemeplm::decomposition {

namespace {

using Image = std::array<std::int8_t, 3>;

struct Partner {
  int atom;
  Image image;
};

// With every perpendicular width >= 2 * cutoff at most one image of j is within the cutoff of i, and
// its fractional displacement lies in (-1/2, 1/2) on every axis: it is the rounded one. Only when a
// fractional coordinate is within 1e-6 of a half (where rounding could pick the wrong side) are the
// 26 images around it tried as well.
std::optional<std::array<int, 3>> image_within(const detail::Lattice& lattice, const Vec3& pi, int i,
                                               const Vec3& pj, int j, double cutoff2) {
  const Vec3 d = pj - pi;
  int centre[3];
  bool near_half = false;
  for (int k = 0; k < 3; ++k) {
    const double f = d.x * lattice.inverse[0][k] + d.y * lattice.inverse[1][k] + d.z * lattice.inverse[2][k];
    // Round half away from zero by truncation (no libm call in this O(N^2) loop); ties are covered below.
    centre[k] = -static_cast<int>(f + (f < 0 ? -0.5 : 0.5));
    near_half = near_half || std::abs(std::abs(f + centre[k]) - 0.5) < 1e-6;
  }
  const int reach = near_half ? 1 : 0;
  for (int n0 = centre[0] - reach; n0 <= centre[0] + reach; ++n0) {
    for (int n1 = centre[1] - reach; n1 <= centre[1] + reach; ++n1) {
      for (int n2 = centre[2] - reach; n2 <= centre[2] + reach; ++n2) {
        const detail::Displacement r =
            detail::periodic_displacement(lattice, i, pi.x, pi.y, pi.z, j, pj.x, pj.y, pj.z, n0, n1, n2);
        if (detail::squared_length(r) < cutoff2) return std::array<int, 3>{n0, n1, n2};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

NeighborList find_neighbors_brute_force(Span<const Vec3> positions, double cutoff,
                                        const std::optional<Box>& box) {
  const char* caller = "find_neighbors_brute_force";
  detail::check_search_input(caller, positions, cutoff);
  std::optional<detail::Lattice> lattice;
  if (box) lattice = detail::make_lattice(caller, *box, cutoff, positions);

  const int atoms = static_cast<int>(positions.size());
  const double cutoff2 = cutoff * cutoff;
  // Pairs are visited i < j with j ascending, and (j, i) is recorded when the outer loop reaches j,
  // before j's own inner loop: every list comes out sorted without a sort.
  std::vector<std::vector<Partner>> partners(static_cast<std::size_t>(atoms));
  for (int i = 0; i < atoms; ++i) {
    const Vec3& pi = positions[i];
    for (int j = i + 1; j < atoms; ++j) {
      const Vec3& pj = positions[j];
      if (!lattice) {
        const detail::Displacement r = detail::free_displacement(pi.x, pi.y, pi.z, pj.x, pj.y, pj.z);
        if (detail::squared_length(r) < cutoff2) {
          partners[i].push_back({j, Image{}});
          partners[j].push_back({i, Image{}});
        }
        continue;
      }
      const auto n = image_within(*lattice, pi, i, pj, j, cutoff2);
      if (!n) continue;
      for (int k = 0; k < 3; ++k) {
        if (std::abs((*n)[k]) > detail::kMaxImage) detail::throw_image_overflow(caller, i, j);
      }
      const Image forward{static_cast<std::int8_t>((*n)[0]), static_cast<std::int8_t>((*n)[1]),
                          static_cast<std::int8_t>((*n)[2])};
      const Image backward{static_cast<std::int8_t>(-forward[0]), static_cast<std::int8_t>(-forward[1]),
                           static_cast<std::int8_t>(-forward[2])};
      partners[i].push_back({j, forward});
      partners[j].push_back({i, backward});
    }
  }

  NeighborList list;
  list.cutoff = cutoff;
  list.offsets.assign(1, 0);
  for (const auto& row : partners) {
    list.offsets.push_back(list.offsets.back() + static_cast<std::int64_t>(row.size()));
    for (const Partner& p : row) {
      list.neighbors.push_back(p.atom);
      if (lattice) list.images.push_back(p.image);
    }
  }
  return list;
}

}  // namespace hemeplm::decomposition
