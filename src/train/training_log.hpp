// What rank 0 tells the user during training: a progress line (rewritten in place on a terminal, plain
// lines at most every 10 s otherwise -- also under mpirun and Slurm, whose pseudo-terminals would make
// in-place lines unreadable in log files) and a JSON-lines log of every
// step and every validation. Each JSON row has "step" and "loss".
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace hemeplm::train {

struct StepRecord {
  std::int64_t step = 0;  ///< optimizer steps completed
  std::int64_t epoch = 0;
  double loss = 0, loss_diffusion = 0, loss_energy = 0, loss_forces = 0;
  double force_mae = -1;  ///< kJ/mol/Å, < 0 when the batch had no labels
  double lr = 0, grad_norm = 0;
  double samples_per_s = 0;
  double allreduce_fraction = 0;  ///< share of the step spent in the gradient all-reduce
  double step_seconds = 0;
  bool skipped = false;
  /// Per-property terms ("loss_gap", "gap_mae", ...), written as extra columns.
  std::vector<std::pair<std::string, double>> properties;
};

struct ValidationRecord {
  std::int64_t step = 0;
  double loss = 0, loss_diffusion = 0, loss_energy = 0, loss_forces = 0;
  double energy_mae = -1, force_mae = -1;  ///< kJ/mol and kJ/mol/Å, < 0 without labels
  std::int64_t windows = 0;
  std::vector<std::pair<std::string, double>> properties;  ///< as in StepRecord
};

class TrainingLog {
 public:
  /// Opens `path` for appending; when resuming from `resume_step`, rows of later steps (written by the
  /// killed run after its last checkpoint) are dropped first so the log reads as one run. `out` may be
  /// null (no progress lines).
  TrainingLog(const std::string& path, std::int64_t resume_step, std::ostream* out, std::int64_t total_steps,
              bool progress);
  void step(const StepRecord& record);
  void validation(const ValidationRecord& record);
  /// A message on its own line (ends the in-place progress line first).
  void note(const std::string& message);
  void finish();

 private:
  std::ofstream file_;
  std::ostream* out_;
  std::int64_t total_steps_, first_step_;
  bool progress_, tty_, line_open_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace hemeplm::train
