// The checkpoint's energy/force head against reference labels (MSE, MAE, R², Pearson for energies; MAE
// and R² for force components; per-residue force errors and predicted per-residue energies), and the
// model's energies on generated frames for the energy distributions, and the property heads (HOMO-LUMO
// gap, ...) against per-molecule labels. Writes the energy and property CSV files of docs/evaluation.md;
// torch stays behind this header.
#pragma once
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/evaluate/trajectory.hpp"

namespace hemeplm::evaluate {

struct EnergyEvaluationOptions {
  std::string checkpoint;        ///< training checkpoint (hemeplm train) with an energy head
  bool use_ema = true;           ///< the EMA weights, as sampling uses
  bool float64 = true;           ///< evaluate in float64 (false: the checkpoint's dtype)
  int threads = 0;               ///< torch threads (0: hardware concurrency)
  int max_force_rows = 200000;   ///< rows of force_components.csv (frames subsampled evenly beyond it)
  int max_residue_frames = 200;  ///< frames in residue_energies.csv and residue_errors.csv (evenly)
};

/// Regression metrics of predictions against labels (plain, float64). r2 = 1 - SS_res / SS_tot is NaN
/// (null in JSON) with fewer than two pairs or constant labels; pearson also with constant predictions.
struct RegressionMetrics {
  long long count = 0;
  double mse = 0, mae = 0, rmse = 0, r2 = 0, pearson = 0;
};
/// UsageError when the sizes differ; all NaN but count for empty input.
RegressionMetrics regression_metrics(const std::vector<double>& truth, const std::vector<double>& predicted);

/// Runs the energy head on every frame of `reference` (energies and forces, compared with its labels when
/// it has them) and on every frame of each generated trajectory (energies only, no gradients), one frame
/// at a time, writes into `out_dir` energy_frames.csv (with energy labels), force_components.csv and
/// residue_errors.csv (with force labels), residue_energies.csv and energy_distributions.csv, and returns
/// the JSON text of metrics.json's "energy" object:
///   {"checkpoint", "checkpoint_step", "weights", "dtype", "reference", "frames": F, "atoms": N,
///    "energy": {count, mse, mae, rmse, r2, pearson} (kJ/mol) or null without energy labels,
///    "forces": {count, mae, rmse, r2} (kJ/mol/Å, every component of every frame) or null,
///    "residues": [{residue_index, residue, force_mae}...] (over all labelled frames),
///    "reference_model"/"reference_labels": {frames, energy_mean, energy_std},
///    "generated": [{label, file, frames, energy_mean, energy_std}...],
///    "timing": {threads, reference_seconds_per_frame, ...}, "csv": [files written], "notes": [...]}
/// Reference files label total energies only, so the per-residue errors are force errors (MAE of the
/// force components of the residue's atoms); residue_energies.csv holds the model's predicted per-residue
/// energies (HemePLM::residue_energies). Water and ions are left out of the per-residue outputs.
/// InputError naming the checkpoint when it has no trained energy head (trained on data without energies
/// and forces), and naming both files when the atoms do not match (elements unseen in training, another
/// atom count than the training data, a generated trajectory of other atoms). Torch threads are set to
/// options.threads (0: hardware concurrency); needs a running Kokkos runtime (model inputs use its
/// neighbour search). Progress lines (every ~10%, elapsed and ETA) go to `log`.
std::string evaluate_energy_head(const EnergyEvaluationOptions& options, const Trajectory& reference,
                                 const std::vector<std::pair<std::string, const Trajectory*>>& generated,
                                 const std::string& out_dir, std::ostream& log);

/// What a training checkpoint can be evaluated for (read from its configuration, no model built).
struct CheckpointHeads {
  bool energy = false;                  ///< the energy/force head was trained (energy labels)
  std::vector<std::string> properties;  ///< the model's property heads (model.property_heads)
};
/// InputError naming the checkpoint when it is not a hemeplm training checkpoint.
CheckpointHeads checkpoint_heads(const std::string& checkpoint);

struct PropertyEvaluationOptions {
  std::string checkpoint;  ///< training checkpoint with property heads (model.property_heads)
  bool use_ema = true;     ///< the EMA weights, as sampling uses
  bool float64 = true;     ///< evaluate in float64 (false: the checkpoint's dtype)
  int threads = 0;         ///< torch threads (0: hardware concurrency)
};

/// The checkpoint's property heads (HOMO-LUMO gap, ...) on every frame of every reference file (each file
/// its own system, e.g. one QM9 molecule per file from `hemeplm prepare --molecules`), against the
/// labels the files store under /observables/properties. Writes out_dir/properties.csv (file, frame,
/// property, unit, label, prediction) and returns the JSON text of metrics.json's "properties" object:
///   {"checkpoint", "checkpoint_step", "weights", "dtype", "files", "frames",
///    "properties": {<name>: {unit, count, mse, mae, rmse, r2, pearson, mean_baseline_mae,
///                            training_mean, training_std} or null without labels},
///    "csv": ["properties.csv"], "notes": [...]}
/// mean_baseline_mae is the MAE of always predicting the head's training mean (its standardisation mean).
/// InputError naming the checkpoint when it has no property heads, and naming a file that has no
/// hemeplm topology; a file lacking a property only adds a note. Needs a running Kokkos runtime.
std::string evaluate_property_heads(const PropertyEvaluationOptions& options,
                                    const std::vector<std::string>& reference_files,
                                    const std::string& out_dir, std::ostream& log);

}  // namespace hemeplm::evaluate
