// Overlapping denoising fragments: cores of consecutive polymer residues (plus the ligands and
// solvent that belong with them), buffers of everything within a radius of the core, and
// partition-of-unity blending weights. Every distance query goes through one neighbour list, so the
// whole construction is O(N) for bounded density.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "fragment_support.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/fragments.hpp"

namespace hemeplm::decomposition {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kUnreached = std::numeric_limits<double>::infinity();

void validate(const DenoiseOptions& options) {
  if (options.core_residues < 1) {
    throw UsageError("denoise fragments: core_residues must be at least 1, got " +
                     std::to_string(options.core_residues));
  }
  if (!(options.buffer >= 0)) throw UsageError("denoise fragments: buffer radius must be >= 0 Å");
  if (!(options.blend >= 0) || options.blend > options.buffer) {
    // Atoms beyond the buffer radius are in no buffer, so a taper wider than the buffer would
    // silently be cut off.
    throw UsageError("denoise fragments: blend width must lie between 0 and the buffer radius (" +
                     std::to_string(options.buffer) + " Å), got " + std::to_string(options.blend));
  }
  if (!(options.ligand_contact > 0)) throw UsageError("denoise fragments: ligand_contact must be > 0 Å");
  if (!(options.solvent_cell > 0)) throw UsageError("denoise fragments: solvent_cell must be > 0 Å");
}

/// Blending taper s(d): 1 at the core, falling to 0 at d = blend (cosine), 0 beyond.
double taper(double distance, double blend) {
  if (distance <= 0) return 1.0;
  if (distance >= blend) return 0.0;
  return 0.5 * (1.0 + std::cos(kPi * distance / blend));
}

bool is_solvent(MoleculeKind kind) {
  return kind == MoleculeKind::kWater || kind == MoleculeKind::kIon;
}

/// Polymer cores: `core_residues` consecutive residues per core along each segment. A last core
/// shorter than half the size is merged into the previous one, so no fragment is a sliver.
void add_polymer_cores(const System& system, const std::vector<detail::Segment>& segments, int core_residues,
                       std::vector<int>& owner, int& fragment_count) {
  for (const detail::Segment& segment : segments) {
    std::vector<int> starts;
    for (int offset = 0; offset < segment.residue_count; offset += core_residues) starts.push_back(offset);
    const int tail = segment.residue_count - starts.back();
    if (starts.size() > 1 && 2 * tail < core_residues) starts.pop_back();
    for (std::size_t c = 0; c < starts.size(); ++c) {
      const int end = c + 1 < starts.size() ? starts[c + 1] : segment.residue_count;
      for (int r = segment.first_residue + starts[c]; r < segment.first_residue + end; ++r) {
        const Residue& res = system.residues[r];
        std::fill(owner.begin() + res.first_atom, owner.begin() + res.first_atom + res.atom_count,
                  fragment_count);
      }
      ++fragment_count;
    }
  }
}

/// The polymer fragment whose core heavy atoms the most ligand heavy atoms come within `contact` of;
/// -1 when it touches none. Ties go to the lower fragment index.
int most_touched_fragment(const System& system, const NeighborList& list, const detail::MoleculeGroup& ligand,
                          const std::vector<int>& owner, int polymer_fragments, double contact) {
  const bool has_heavy =
      std::any_of(ligand.atoms.begin(), ligand.atoms.end(), [&](int a) { return !system.is_hydrogen(a); });
  std::map<int, int> touching_atoms;  // fragment -> ligand atoms touching it
  std::vector<int> touched;
  for (int a : ligand.atoms) {
    if (has_heavy && system.is_hydrogen(a)) continue;
    touched.clear();
    for (std::int64_t e = list.offsets[a]; e < list.offsets[a + 1]; ++e) {
      const int j = list.neighbors[e];
      const int f = owner[j];
      if (f < 0 || f >= polymer_fragments || system.is_hydrogen(j)) continue;
      if (detail::edge_length(list, system, a, e) < contact) touched.push_back(f);
    }
    detail::sort_unique(touched);
    for (int f : touched) ++touching_atoms[f];
  }
  int best = -1;
  int best_count = 0;
  for (const auto& [fragment, count] : touching_atoms) {
    if (count > best_count) best = fragment, best_count = count;
  }
  return best;
}

/// Grid cell of bulk solvent: fractional coordinates wrapped into the box when there is one,
/// otherwise Cartesian cells from the lowest corner of the System.
class SolventGrid {
 public:
  SolventGrid(const System& system, double cell) : system_(system), cell_(cell) {
    if (system.box) {
      const auto& v = system.box->vectors;
      const double volume = std::abs(dot(v[0], cross(v[1], v[2])));
      const std::array<Vec3, 3> faces{cross(v[1], v[2]), cross(v[2], v[0]), cross(v[0], v[1])};
      for (int k = 0; k < 3; ++k) {
        reciprocal_[k] = faces[k] * (1.0 / dot(v[k], faces[k]));
        cells_[k] = std::max(1, static_cast<int>(std::floor(volume / norm(faces[k]) / cell)));
      }
    } else {
      origin_ = system.positions.empty() ? Vec3{} : system.positions.front();
      for (const Vec3& p : system.positions) {
        origin_ = {std::min(origin_.x, p.x), std::min(origin_.y, p.y), std::min(origin_.z, p.z)};
      }
    }
  }

  std::array<long, 3> cell_of(int atom) const {
    const Vec3& p = system_.positions[atom];
    std::array<long, 3> cell{};
    for (int k = 0; k < 3; ++k) {
      if (system_.box) {
        const double fractional = dot(reciprocal_[k], p);
        const double wrapped = fractional - std::floor(fractional);
        cell[k] = std::min(cells_[k] - 1, static_cast<int>(wrapped * cells_[k]));
      } else {
        cell[k] = static_cast<long>(std::floor((p[k] - origin_[k]) / cell_));
      }
    }
    return cell;
  }

 private:
  const System& system_;
  double cell_;
  Vec3 origin_;
  std::array<Vec3, 3> reciprocal_{};
  std::array<int, 3> cells_{1, 1, 1};
};

/// Places ligands, cofactors and solvent into cores (see fragments.hpp); returns the molecule index
/// of every atom that belongs to a whole-molecule ligand (-1 otherwise), for the buffer step.
std::vector<int> assign_molecules(const System& system, const NeighborList& list,
                                  const DenoiseOptions& options,
                                  const std::vector<detail::MoleculeGroup>& molecules,
                                  std::vector<int>& owner, int& fragment_count) {
  std::vector<int> ligand_of(owner.size(), -1);
  const int polymer_fragments = fragment_count;
  for (std::size_t m = 0; m < molecules.size(); ++m) {
    const detail::MoleculeGroup& molecule = molecules[m];
    if (is_solvent(molecule.kind)) continue;
    int target =
        most_touched_fragment(system, list, molecule, owner, polymer_fragments, options.ligand_contact);
    if (target < 0) target = fragment_count++;
    for (int a : molecule.atoms) owner[a] = target, ligand_of[a] = static_cast<int>(m);
  }

  // Solvent joins the fragment owning the nearest polymer or ligand atom. Targets are applied only
  // after the loop, so solvent never attaches to other solvent and the order of molecules is irrelevant.
  const SolventGrid grid(system, options.solvent_cell);
  std::map<std::array<long, 3>, std::vector<int>> bulk;  // cell -> solvent molecules, ordered by cell
  std::vector<std::pair<int, int>> placed;               // (molecule, fragment)
  for (std::size_t m = 0; m < molecules.size(); ++m) {
    const detail::MoleculeGroup& molecule = molecules[m];
    if (!is_solvent(molecule.kind)) continue;
    double nearest = options.buffer;
    int target = -1;
    for (int a : molecule.atoms) {
      for (std::int64_t e = list.offsets[a]; e < list.offsets[a + 1]; ++e) {
        const int j = list.neighbors[e];
        if (owner[j] < 0) continue;  // solvent: owners are not set yet
        const double d = detail::edge_length(list, system, a, e);
        if (d < nearest) nearest = d, target = owner[j];
      }
    }
    if (target >= 0) {
      placed.emplace_back(static_cast<int>(m), target);
    } else {
      bulk[grid.cell_of(molecule.atoms.front())].push_back(static_cast<int>(m));
    }
  }
  for (const auto& [m, target] : placed) {
    for (int a : molecules[m].atoms) owner[a] = target;
  }
  for (const auto& cell_molecules : bulk) {
    for (int m : cell_molecules.second) {
      for (int a : molecules[m].atoms) owner[a] = fragment_count;
    }
    ++fragment_count;
  }
  return ligand_of;
}

}  // namespace

std::vector<Fragment> make_denoise_fragments(const System& system, const DenoiseOptions& options) {
  validate(options);
  const int atom_count = system.atom_count();
  std::vector<int> owner(atom_count, -1);
  int fragment_count = 0;
  const detail::BondGraph bonds = detail::make_bond_graph(system);
  add_polymer_cores(system, detail::polymer_segments(system, bonds, detail::is_polymer_residue),
                    options.core_residues, owner, fragment_count);
  if (atom_count == 0) return {};

  const double cutoff = std::max(options.buffer, options.ligand_contact);
  const NeighborList list = detail::system_neighbors(system, cutoff);
  const std::vector<detail::MoleculeGroup> molecules = detail::non_polymer_molecules(system);
  const std::vector<int> ligand_of =
      assign_molecules(system, list, options, molecules, owner, fragment_count);

  std::vector<Fragment> fragments(fragment_count);
  for (int a = 0; a < atom_count; ++a) {
    if (owner[a] < 0)
      throw UsageError("denoise fragments: " + detail::describe_atom(system, a) + " has no core");
    fragments[owner[a]].core.push_back(a);
  }

  // Buffers: every atom within the radius of a core atom, plus the whole of any ligand reached
  // (its far atoms lie at least `buffer` away and get weight 0 since blend <= buffer).
  std::vector<double> distance(atom_count, kUnreached);
  std::vector<double> taper_sum(atom_count, 1.0);  // each atom's own core contributes s(0) = 1
  std::vector<std::vector<double>> buffer_distances(fragments.size());
  for (int f = 0; f < fragment_count; ++f) {
    Fragment& fragment = fragments[f];
    std::vector<int>& buffer = fragment.buffer;
    for (int i : fragment.core) {
      for (std::int64_t e = list.offsets[i]; e < list.offsets[i + 1]; ++e) {
        const int j = list.neighbors[e];
        if (owner[j] == f) continue;
        const double d = detail::edge_length(list, system, i, e);
        if (d >= options.buffer || d >= distance[j]) continue;
        if (distance[j] == kUnreached) buffer.push_back(j);
        distance[j] = d;
      }
    }
    const std::size_t within_radius = buffer.size();
    for (std::size_t b = 0; b < within_radius; ++b) {
      const int m = ligand_of[buffer[b]];
      if (m < 0) continue;
      for (int a : molecules[m].atoms) {
        if (owner[a] != f && distance[a] == kUnreached) buffer.push_back(a), distance[a] = options.buffer;
      }
    }
    std::sort(buffer.begin(), buffer.end());
    buffer_distances[f].reserve(buffer.size());
    for (int j : buffer) {
      buffer_distances[f].push_back(distance[j]);
      taper_sum[j] += taper(distance[j], options.blend);
      distance[j] = kUnreached;
    }
  }

  for (int f = 0; f < fragment_count; ++f) {
    Fragment& fragment = fragments[f];
    fragment.id = f;
    fragment.kind = FragmentKind::kDenoise;
    fragment.weights.reserve(fragment.core.size() + fragment.buffer.size());
    for (int i : fragment.core) fragment.weights.push_back(1.0 / taper_sum[i]);
    for (std::size_t b = 0; b < fragment.buffer.size(); ++b) {
      const int j = fragment.buffer[b];
      fragment.weights.push_back(taper(buffer_distances[f][b], options.blend) / taper_sum[j]);
    }
    for (int i : fragment.core) fragment.residues.push_back(system.atom_residue[i]);
    detail::sort_unique(fragment.residues);
  }
  return fragments;
}

}  // namespace hemeplm::decomposition
