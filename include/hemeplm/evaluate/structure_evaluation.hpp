// The structure-and-dynamics part of 'hemeplm evaluate': every generated set and the two baselines (MD
// oracle, trivial generator) measured against the reference, written as the CSV tables of
// docs/evaluation.md and returned as metrics.json fragments.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "hemeplm/evaluate/trajectory.hpp"

namespace hemeplm::evaluate {

struct StructureEvaluationOptions {
  int tica_lag = 1;              ///< frames
  double oracle_fraction = 0.5;  ///< the reference's last fraction of frames forms the MD-oracle set
  std::uint64_t seed = 1;        ///< trivial baseline noise
  int max_torsions = 300;        ///< TICA feature torsions (also the decorrelation torsions)
  long long max_ramachandran_rows = 100000;  ///< per set in ramachandran.csv (frames subsampled evenly)
};

struct LabelledTrajectory {
  std::string label;  ///< column / set name in the tables
  const Trajectory* trajectory = nullptr;
};

/// The metric keys of every "metrics" object, in order.
const std::vector<std::string>& structure_metric_keys();

/// Unique labels from file stems ("forecast", "forecast_2", ...); labels never collide with "reference",
/// "md_oracle" or "trivial".
std::vector<std::string> unique_labels(const std::vector<std::string>& paths);

/// Measures everything, writes distributions_*.csv, ramachandran.csv (peptides), tica.csv, rmsf.csv,
/// timeseries.csv, torsion_decorrelation.csv and metrics.csv into `out_dir` (which must exist), and
/// returns the JSON text {"reference": {"metrics": {...}}, "generated": [{"label", "file", "frames",
/// "metrics"}], "baselines": {"md_oracle": {...}, "trivial": {...}}, "tica": {...}, "notes": [...]}.
/// Every generated trajectory must have the reference's atoms (InputError otherwise); UsageError when
/// the reference has too few frames for the TICA lag or the oracle split. Progress lines go to `log`.
std::string evaluate_structure(const StructureEvaluationOptions& options, const Trajectory& reference,
                               const std::vector<LabelledTrajectory>& generated, const std::string& out_dir,
                               std::ostream& log);

}  // namespace hemeplm::evaluate
