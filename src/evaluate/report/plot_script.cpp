// Runs tools/evaluate_plots.py as a child process (posix_spawn, no shell) and turns an absent or failing
// plotting stack into PlotResult::missing instead of an error: the metrics stand without plots.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "child_process.hpp"
#include "hemeplm/evaluate/report.hpp"

namespace hemeplm::evaluate {
std::string find_plot_script() {
  return find_tool_script("evaluate_plots.py", "HEMEPLM_PLOT_SCRIPT");
}

PlotResult run_plot_script(const std::string& out_dir, const std::string& python, std::ostream& log) {
  PlotResult result;
  const std::string script = find_plot_script();
  if (script.empty()) {
    result.missing =
        "the plotting script evaluate_plots.py was not found (install hemeplm or set HEMEPLM_PLOT_SCRIPT)";
  } else if (!is_file(script)) {
    result.missing = "the plotting script " + script + " does not exist (HEMEPLM_PLOT_SCRIPT)";
  }
  if (!result.missing.empty()) {
    log << "plots: none: " << result.missing << '\n';
    return result;
  }
  const std::string interpreter = python_interpreter(python);
  log << "plots: " << interpreter << ' ' << script << ' ' << out_dir << '\n';

  const ChildResult child = run_child_process({interpreter, script, out_dir});
  if (child.spawn_error != 0 || child.exit_status == 127) {
    result.missing = interpreter + " not found" +
                     (child.spawn_error != 0 && child.spawn_error != ENOENT
                          ? " (" + std::string(std::strerror(child.spawn_error)) + ")"
                          : std::string());
  } else if (child.exit_status == kPlotStackMissing) {
    result.missing = "matplotlib is not installed (apt-get install python3-matplotlib)";
  } else if (child.exit_status != 0) {
    const std::string why = last_nonempty_line(child.err);
    result.missing = "the plotting script failed: " +
                     (why.empty() ? "exit status " + std::to_string(child.exit_status) : why);
  } else {
    // The last stdout line is the script's JSON summary; the lines before it name each plot.
    const auto summary = nlohmann::json::parse(last_nonempty_line(child.out), nullptr, false);
    if (summary.is_discarded() || !summary.is_object() || !summary.contains("written") ||
        !summary["written"].is_array()) {
      result.missing = "the plotting script failed: its last output line is not the JSON summary";
    } else {
      for (const auto& path : summary["written"])
        if (path.is_string()) result.written.push_back(path.get<std::string>());
      if (summary.contains("skipped") && summary["skipped"].is_object())
        for (const auto& [name, why] : summary["skipped"].items())
          log << "plots: skipped " << name << ": " << (why.is_string() ? why.get<std::string>() : why.dump())
              << '\n';
    }
  }
  for (const auto& path : result.written) log << "plots: wrote " << path << '\n';
  if (!result.missing.empty()) log << "plots: none: " << result.missing << '\n';
  return result;
}

}  // namespace hemeplm::evaluate
