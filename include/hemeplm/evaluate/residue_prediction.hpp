// The checkpoint's energy head on one structure, per residue: the atom energies summed per residue and
// the predicted atomic forces, for 'hemeplm annotate' (docs/annotate.md). Torch stays behind this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

struct ResiduePredictionOptions {
  std::string checkpoint;  ///< training checkpoint (hemeplm train) with a trained energy head
  bool use_ema = true;     ///< the EMA weights, as sampling uses
  bool float64 = true;     ///< evaluate in float64 (false: the checkpoint's dtype)
  int threads = 0;         ///< torch threads (0: hardware concurrency)
};

struct ResiduePrediction {
  std::int64_t checkpoint_step = 0;
  double energy = 0;                   ///< predicted potential energy, kJ/mol
  std::vector<double> residue_energy;  ///< [residue_count] atom energies summed per residue, kJ/mol
  /// energy - sum(residue_energy): the head's per-frame offset (its energy mean), in no residue.
  double energy_offset = 0;
  std::vector<Vec3> forces;        ///< [atom_count] -dE/dx, kJ/mol/Å
  std::vector<std::string> notes;  ///< what could not be checked (EnergyHead::check_system)
};

/// Runs the energy head of options.checkpoint on `system` at `positions` (Å): per-residue energies
/// (HemePLM::residue_energies, so they sum to energy - energy_offset) and forces from autograd.
/// InputError naming the checkpoint when it has no trained energy head, naming `system_path` when the
/// atoms are not those the head was trained on (EnergyHead::check_system). Needs a running Kokkos runtime.
ResiduePrediction predict_residues(const ResiduePredictionOptions& options, const System& system,
                                   const std::string& system_path, Span<const Vec3> positions);

}  // namespace hemeplm::evaluate
