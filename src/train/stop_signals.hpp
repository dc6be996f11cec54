// Graceful stop on SIGTERM, SIGUSR1 (Slurm's time-limit warning with --signal, preemption) and SIGINT:
// the handler only records the signal; the training loop finishes its step, agrees on the stop with the
// other ranks, writes a checkpoint and exits 0. A second SIGINT ends the process at once.
#pragma once

#include <csignal>

namespace hemeplm::train {

/// Installs the handlers for its lifetime and restores the previous ones afterwards. One at a time.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  /// The signal number received, or 0.
  int received() const;

 private:
  struct sigaction previous_term_ {
  }, previous_usr1_{}, previous_int_{};
};

}  // namespace hemeplm::train
