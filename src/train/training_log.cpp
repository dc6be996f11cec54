#include "training_log.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

using nlohmann::ordered_json;

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", s);
  }
  return text;
}

/// Keeps the rows of steps <= `step` (a resumed run rewrites what the killed run logged after its
/// last checkpoint). Rows that do not parse are kept as they are.
void truncate_after(const std::string& path, std::int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::vector<std::string> kept;
  std::string line;
  bool dropped = false;
  while (std::getline(in, line)) {
    const auto row = ordered_json::parse(line, nullptr, false);
    if (!row.is_discarded() && row.contains("step") && row["step"].is_number_integer() &&
        row["step"].get<std::int64_t>() > step) {
      dropped = true;
      continue;
    }
    kept.push_back(line);
  }
  in.close();
  if (!dropped) return;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& l : kept) out << l << '\n';
    if (!out) throw InputError(path, "cannot rewrite the training log");
  }
  std::filesystem::rename(temporary, path);
}

void put(ordered_json& row, const char* key, double value) {
  if (std::isfinite(value)) {
    row[key] = value;
  } else {
    row[key] = nullptr;  // JSON has no NaN; null says "not finite"
  }
}

}  // namespace

TrainingLog::TrainingLog(const std::string& path, std::int64_t resume_step, std::ostream* out,
                         std::int64_t total_steps, bool progress)
    : out_(out),
      total_steps_(total_steps),
      first_step_(resume_step),
      progress_(progress && out != nullptr),
      tty_(isatty(STDOUT_FILENO) == 1 && std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr &&
           std::getenv("PMI_SIZE") == nullptr && std::getenv("SLURM_JOB_ID") == nullptr),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_ - std::chrono::hours(1)) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (resume_step > 0) truncate_after(path, resume_step);
  file_.open(path, resume_step > 0 ? std::ios::app : std::ios::trunc);
  if (!file_) throw InputError(path, "cannot open the training log for writing");
}

void TrainingLog::step(const StepRecord& r) {
  ordered_json row;
  row["step"] = r.step;
  put(row, "loss", r.loss);
  put(row, "loss_diffusion", r.loss_diffusion);
  put(row, "loss_energy", r.loss_energy);
  put(row, "loss_forces", r.loss_forces);
  if (r.force_mae >= 0) put(row, "force_mae", r.force_mae);
  for (const auto& [key, value] : r.properties) put(row, key.c_str(), value);
  row["epoch"] = r.epoch;
  put(row, "lr", r.lr);
  put(row, "grad_norm", r.grad_norm);
  put(row, "samples_per_s", r.samples_per_s);
  put(row, "allreduce_fraction", r.allreduce_fraction);
  put(row, "step_s", r.step_seconds);
  row["skipped"] = r.skipped;
  file_ << row.dump() << '\n';
  file_.flush();

  if (!progress_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = r.step >= total_steps_;
  if (!tty_ && !last && now - last_print_ < std::chrono::seconds(10) && r.step != first_step_ + 1) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double done = static_cast<double>(r.step - first_step_);
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_steps_ - r.step) : -1;
  char terms[96] = "";
  if (r.force_mae >= 0)
    std::snprintf(terms, sizeof terms, " E %.4f F %.4f, force MAE %.3g", r.loss_energy, r.loss_forces,
                  r.force_mae);
  char text[320];
  std::snprintf(
      text, sizeof text,
      "step %lld/%lld  loss %.4f (eps %.4f%s)  lr %.2e  %.1f samples/s  all-reduce %.1f%%  ETA %s%s",
      static_cast<long long>(r.step), static_cast<long long>(total_steps_), r.loss, r.loss_diffusion, terms,
      r.lr, r.samples_per_s, 100.0 * r.allreduce_fraction, duration(eta).c_str(),
      r.skipped ? "  [skipped: non-finite]" : "");
  if (tty_) {
    *out_ << '\r' << text << "\x1b[K" << std::flush;
    line_open_ = true;
  } else {
    *out_ << text << '\n' << std::flush;
  }
}

void TrainingLog::validation(const ValidationRecord& r) {
  ordered_json row;
  row["step"] = r.step;
  row["split"] = "validation";
  put(row, "loss", r.loss);
  put(row, "loss_diffusion", r.loss_diffusion);
  put(row, "loss_energy", r.loss_energy);
  put(row, "loss_forces", r.loss_forces);
  if (r.energy_mae >= 0) put(row, "energy_mae", r.energy_mae);
  if (r.force_mae >= 0) put(row, "force_mae", r.force_mae);
  for (const auto& [key, value] : r.properties) put(row, key.c_str(), value);
  row["windows"] = r.windows;
  file_ << row.dump() << '\n';
  file_.flush();
  std::ostringstream text;
  text << "validation at step " << r.step << ": loss " << r.loss << " (eps " << r.loss_diffusion << ")";
  if (r.energy_mae >= 0) text << ", energy MAE " << r.energy_mae << " kJ/mol";
  if (r.force_mae >= 0) text << ", force MAE " << r.force_mae << " kJ/mol/A";
  for (const auto& [key, value] : r.properties) text << ", " << key << " " << value;
  text << " over " << r.windows << " windows";
  note(text.str());
}

void TrainingLog::note(const std::string& message) {
  if (out_ == nullptr) return;
  if (line_open_) *out_ << '\n';
  line_open_ = false;
  *out_ << message << '\n' << std::flush;
}

void TrainingLog::finish() {
  if (line_open_ && out_ != nullptr) *out_ << '\n' << std::flush;
  line_open_ = false;
}

}  // namespace hemeplm::train
