#include "stop_signals.hpp"

#include <unistd.h>

namespace hemeplm::train {
namespace {

// A signal handler can only communicate through a lock-free object of static storage: this is the one
// piece of process-wide mutable state, written by the handler and read by the training loop.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signal) {
  if (signal == SIGINT && g_stop_signal != 0) _exit(130);  // second Ctrl-C: stop now
  g_stop_signal = signal;
}

void install(int signal, struct sigaction& previous) {
  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // interrupted reads and writes resume; the loop polls the flag
  sigaction(signal, &action, &previous);
}

}  // namespace

StopSignals::StopSignals() {
  g_stop_signal = 0;
  install(SIGTERM, previous_term_);
  install(SIGUSR1, previous_usr1_);
  install(SIGINT, previous_int_);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &previous_term_, nullptr);
  sigaction(SIGUSR1, &previous_usr1_, nullptr);
  sigaction(SIGINT, &previous_int_, nullptr);
}

int StopSignals::received() const {
  return g_stop_signal;
}

}  // namespace hemeplm::train
