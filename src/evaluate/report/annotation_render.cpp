// The PNG files of 'hemeplm annotate': the 2D force projection by tools/annotate_render.py (matplotlib)
// and two ray-traced views by Debian's pymol. Both are optional: a missing or failing renderer becomes a
// note, never an error, because the structure files and residues.csv are the result.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "child_process.hpp"
#include "hemeplm/evaluate/residue_annotation.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;

// A Python string literal for PyMOL's "/python" command lines.
std::string python_literal(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string why_failed(const ChildResult& child, const std::string& program) {
  if (child.spawn_error != 0 || child.exit_status == 127)
    return program + " not found" +
           (child.spawn_error != 0 && child.spawn_error != ENOENT
                ? " (" + std::string(std::strerror(child.spawn_error)) + ")"
                : std::string());
  const std::string line = last_nonempty_line(child.err.empty() ? child.out : child.err);
  return program + " failed: " + (line.empty() ? "exit status " + std::to_string(child.exit_status) : line);
}

}  // namespace

RenderResult render_force_projection(const std::string& out_dir, const std::string& python,
                                     std::ostream& log) {
  RenderResult result;
  const std::string script = find_tool_script("annotate_render.py", "HEMEPLM_ANNOTATE_SCRIPT");
  if (script.empty() || !is_file(script)) {
    result.notes.push_back(
        "pocket_forces.png skipped: the script annotate_render.py was not found (install "
        "hemeplm or set HEMEPLM_ANNOTATE_SCRIPT)");
    return result;
  }
  const std::string interpreter = python_interpreter(python);
  log << "annotate: " << interpreter << ' ' << script << ' ' << out_dir << '\n';
  const ChildResult child = run_child_process({interpreter, script, out_dir});
  if (child.exit_status == kPlotStackMissing) {
    result.notes.push_back(
        "pocket_forces.png skipped: matplotlib is not installed (apt-get install python3-matplotlib)");
  } else if (child.spawn_error != 0 || child.exit_status != 0) {
    result.notes.push_back("pocket_forces.png skipped: " + why_failed(child, interpreter));
  } else {
    const auto summary = nlohmann::json::parse(last_nonempty_line(child.out), nullptr, false);
    if (summary.is_object() && summary.contains("written") && summary["written"].is_array())
      for (const auto& path : summary["written"])
        if (path.is_string()) result.written.push_back(path.get<std::string>());
    if (result.written.empty())
      result.notes.push_back("pocket_forces.png skipped: annotate_render.py wrote nothing");
  }
  return result;
}

RenderResult render_pymol(const std::string& out_dir, int width, int height, std::ostream& log) {
  RenderResult result;
  const fs::path dir(out_dir);
  const std::string size =
      ", width=" + std::to_string(width) + ", height=" + std::to_string(height) + ", ray=1)";
  const std::string look = "/cmd.bg_color('white'); cmd.set('ray_opaque_background', 1)";
  struct View {
    std::string png;
    std::vector<std::string> args;
  };
  const std::vector<View> views = {
      {"energy.png",
       {(dir / "energy.pdb").string(), "-d",
        "/cmd.hide('everything'); cmd.show('cartoon'); cmd.show('sticks', 'organic'); "
        "cmd.spectrum('b', 'blue_white_red'); cmd.orient()",
        "-d", look, "-d", "/cmd.png(" + python_literal((dir / "energy.png").string()) + size}},
      {"pocket_forces_3d.png",
       {(dir / "energy.pdb").string(), (dir / "pocket_forces.py").string(), "-d", look, "-d",
        "/cmd.png(" + python_literal((dir / "pocket_forces_3d.png").string()) + size}},
  };
  for (const View& view : views) {
    std::vector<std::string> argv = {"pymol", "-cq"};
    argv.insert(argv.end(), view.args.begin(), view.args.end());
    // Debian's pymol launcher runs "python3 -m pymol": /usr/bin must come first so that it finds the
    // system interpreter that has the pymol module.
    std::error_code ignored;
    fs::remove(dir / view.png, ignored);  // a PNG of an earlier run must not pass for this one
    const ChildResult child = run_child_process(argv, "/usr/bin");
    if (child.spawn_error != 0 || child.exit_status == 127) {
      result.notes.push_back(
          "energy.png and pocket_forces_3d.png skipped: pymol is not installed "
          "(apt-get install pymol)");
      return result;
    }
    if (child.exit_status != 0 || !is_file(dir / view.png)) {
      result.notes.push_back(view.png + " skipped: " + why_failed(child, "pymol"));
      continue;
    }
    log << "annotate: pymol wrote " << view.png << '\n';
    result.written.push_back(view.png);
  }
  return result;
}

}  // namespace hemeplm::evaluate
