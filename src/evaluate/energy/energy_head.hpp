// A training checkpoint's energy/force head, ready to evaluate frames of one system: the checkpoint's
// model (EMA weights by default, as sampling uses them) and the system's model input, built once so that
// a frame only replaces the context positions and their radius graph. Torch stays behind the pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

class EnergyHead {
 public:
  /// Reads the checkpoint and loads its weights (in float64 when `float64`, else the checkpoint's
  /// dtype). InputError naming the checkpoint when it is not a training checkpoint or its energy head was
  /// never trained (no energy labels in its data: energy standardisation absent).
  EnergyHead(const std::string& checkpoint, bool use_ema, bool float64);
  ~EnergyHead();
  EnergyHead(const EnergyHead&) = delete;
  EnergyHead& operator=(const EnergyHead&) = delete;

  const std::string& path() const;
  std::int64_t step() const;  ///< optimizer step of the checkpoint
  bool float64() const;

  /// InputError naming `system_path` and the checkpoint when the system's atoms are not the ones the head
  /// was trained on: an atomic number outside the model's embedding, an element absent from the training
  /// data (data.elements), or an atom count that no training dataset has (checked when the datasets the
  /// checkpoint names are still readable; otherwise a line is added to `notes`).
  void check_system(const System& system, const std::string& system_path,
                    std::vector<std::string>& notes) const;

  /// Builds the model input of `system` (topology, features, bond graph); frames then only change the
  /// context positions. Needs a running Kokkos runtime (the neighbour search).
  void set_system(const System& system);

  /// Potential energy (kJ/mol) of one frame (atoms of set_system's system, Å), without gradients.
  double energy(Span<const Vec3> positions);
  /// Energy and forces -dE/dx (kJ/mol/Å) of one frame from autograd (no graph kept).
  double energy_and_forces(Span<const Vec3> positions, Span<Vec3> forces);
  /// Sums of the atom energies (kJ/mol) over groups: atom a goes to group atom_group[a] in
  /// [0, group_count), or nowhere when atom_group[a] < 0. The head's mean is in no group, so the groups of
  /// a partition sum to energy() - mean.
  std::vector<double> group_energies(Span<const Vec3> positions, const std::vector<std::int64_t>& atom_group,
                                     std::int64_t group_count);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hemeplm::evaluate
