// Per-residue energies and atomic forces of one structure through EnergyHead: the same model, weights
// and graph construction as hemeplm evaluate's energy part.
#include "hemeplm/evaluate/residue_prediction.hpp"

#include <algorithm>
#include <thread>

#include "energy_head.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/model/config.hpp"

namespace hemeplm::evaluate {

ResiduePrediction predict_residues(const ResiduePredictionOptions& options, const System& system,
                                   const std::string& system_path, Span<const Vec3> positions) {
  if (options.checkpoint.empty()) throw UsageError("per-residue energies need a checkpoint");
  if (positions.size() != static_cast<std::size_t>(system.atom_count()))
    throw UsageError("predict_residues: " + std::to_string(positions.size()) + " positions for " +
                     std::to_string(system.atom_count()) + " atoms");
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  model::set_torch_threads(threads);

  ResiduePrediction result;
  EnergyHead head(options.checkpoint, options.use_ema, options.float64);
  result.checkpoint_step = head.step();
  head.check_system(system, system_path, result.notes);
  head.set_system(system);

  result.forces.resize(positions.size());
  result.energy = head.energy_and_forces(positions, Span<Vec3>(result.forces));
  std::vector<std::int64_t> atom_group(system.atom_residue.begin(), system.atom_residue.end());
  result.residue_energy = head.group_energies(positions, atom_group, system.residue_count());
  double sum = 0;
  for (const double e : result.residue_energy) sum += e;
  result.energy_offset = result.energy - sum;
  return result;
}

}  // namespace hemeplm::evaluate
