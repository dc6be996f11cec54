// Plots and report.html for 'hemeplm evaluate': the plotting script (tools/evaluate_plots.py, Debian's
// python3-matplotlib) turns the CSV files of DIR into DIR/plots/*.png; report.html shows metrics.json's
// tables and every plot present. Without the plotting stack the metrics stand alone and the report says why.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace hemeplm::evaluate {

struct PlotResult {
  std::vector<std::string> written;  ///< paths relative to the output folder ("plots/rmsf.png")
  std::string missing;               ///< empty when the script ran; otherwise why there are no plots
};

/// The plotting script: $HEMEPLM_PLOT_SCRIPT, else <executable dir>/../share/hemeplm/evaluate_plots.py,
/// else the source tree's tools/evaluate_plots.py; empty when none exists.
std::string find_plot_script();

/// Runs `python script out_dir` without a shell; an empty python means /usr/bin/python3 (Debian's
/// python3-matplotlib belongs to it; a pyenv/conda python3 first in PATH may lack it), else PATH's
/// python3. Never throws for a missing or failing plotting stack: the reason (python3 or matplotlib
/// absent, the script's last error line) goes into PlotResult::missing. Progress goes to `log`.
PlotResult run_plot_script(const std::string& out_dir, const std::string& python, std::ostream& log);

/// Writes out_dir/report.html from metrics.json's text and the plots present. Throws InputError on an
/// unreadable metrics text or an unwritable folder.
void write_report_html(const std::string& out_dir, const std::string& metrics_json, const PlotResult& plots);

}  // namespace hemeplm::evaluate
