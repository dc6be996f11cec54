// Per-residue annotation of a structure (docs/annotate.md): pocket selection, residue centres and force
// sums, residues.csv and the PyMOL script of force arrows. Plain loops over the System's residues.
#include "hemeplm/evaluate/residue_annotation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>

#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::evaluate {
namespace {

bool is_solvent(ResidueKind kind) {
  return kind == ResidueKind::kWater || kind == ResidueKind::kIon;
}

void require_atoms(const System& system, std::size_t count, const char* what) {
  if (count != static_cast<std::size_t>(system.atom_count()))
    throw UsageError(std::string("residue annotation: ") + std::to_string(count) + " " + what + " for " +
                     std::to_string(system.atom_count()) + " atoms");
}

std::string number(double value, const char* pattern = "%.6g") {
  if (!std::isfinite(value)) return "";
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Python string literal for the PyMOL script (labels are residue names and chain ids).
std::string python_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\n') out += c;
  }
  return out + "\"";
}

std::string residue_label(const System& system, int r) {
  const Residue& residue = system.residues[static_cast<std::size_t>(r)];
  std::string label = residue.name + std::to_string(residue.seq);
  if (residue.insertion != ' ') label += residue.insertion;
  if (residue.chain >= 0) label += ":" + system.chains[static_cast<std::size_t>(residue.chain)].name;
  return label;
}

}  // namespace

std::vector<char> pocket_residues(const System& system, Span<const Vec3> positions, double radius) {
  require_atoms(system, positions.size(), "positions");
  const auto residue_count = static_cast<std::size_t>(system.residue_count());
  std::vector<char> pocket(residue_count, 0);
  std::vector<char> ligand_residue(residue_count, 0);
  for (const int m : system.ligand_molecules())
    for (const int r : system.molecules[static_cast<std::size_t>(m)].residues)
      ligand_residue[static_cast<std::size_t>(r)] = 1;

  std::vector<Vec3> ligand_atoms;
  for (int a = 0; a < system.atom_count(); ++a)
    if (ligand_residue[static_cast<std::size_t>(system.atom_residue[static_cast<std::size_t>(a)])] &&
        !system.is_hydrogen(a))
      ligand_atoms.push_back(positions[static_cast<std::size_t>(a)]);

  if (ligand_atoms.empty()) {
    for (std::size_t r = 0; r < residue_count; ++r) pocket[r] = !is_solvent(system.residues[r].kind);
    if (std::find(pocket.begin(), pocket.end(), 1) == pocket.end())
      std::fill(pocket.begin(), pocket.end(), 1);
    return pocket;
  }
  const double r2 = radius * radius;
  for (std::size_t r = 0; r < residue_count; ++r) {
    const Residue& residue = system.residues[r];
    if (ligand_residue[r]) {
      pocket[r] = 1;
      continue;
    }
    if (is_solvent(residue.kind)) continue;
    for (int a = residue.first_atom; a < residue.first_atom + residue.atom_count && !pocket[r]; ++a) {
      if (system.is_hydrogen(a)) continue;
      const Vec3& p = positions[static_cast<std::size_t>(a)];
      for (const Vec3& q : ligand_atoms)
        if (norm2(p - q) <= r2) {
          pocket[r] = 1;
          break;
        }
    }
  }
  return pocket;
}

std::vector<Vec3> residue_centres(const System& system, Span<const Vec3> positions) {
  require_atoms(system, positions.size(), "positions");
  std::vector<Vec3> centres(static_cast<std::size_t>(system.residue_count()));
  for (std::size_t r = 0; r < centres.size(); ++r) {
    const Residue& residue = system.residues[r];
    const int end = residue.first_atom + residue.atom_count;
    int ca = -1, heavy = 0;
    Vec3 heavy_sum, all_sum;
    for (int a = residue.first_atom; a < end; ++a) {
      const Vec3& p = positions[static_cast<std::size_t>(a)];
      all_sum += p;
      if (!system.is_hydrogen(a)) {
        heavy_sum += p;
        ++heavy;
      }
      if (system.atom_names[static_cast<std::size_t>(a)] == "CA" && residue.kind == ResidueKind::kAminoAcid)
        ca = a;
    }
    if (ca >= 0)
      centres[r] = positions[static_cast<std::size_t>(ca)];
    else if (heavy > 0)
      centres[r] = heavy_sum * (1.0 / heavy);
    else if (residue.atom_count > 0)
      centres[r] = all_sum * (1.0 / residue.atom_count);
  }
  return centres;
}

std::vector<Vec3> residue_force_sums(const System& system, Span<const Vec3> forces) {
  require_atoms(system, forces.size(), "forces");
  std::vector<Vec3> sums(static_cast<std::size_t>(system.residue_count()));
  for (int a = 0; a < system.atom_count(); ++a)
    sums[static_cast<std::size_t>(system.atom_residue[static_cast<std::size_t>(a)])] +=
        forces[static_cast<std::size_t>(a)];
  return sums;
}

std::vector<double> residue_force_errors(const System& system, Span<const Vec3> predicted,
                                         Span<const Vec3> reference) {
  require_atoms(system, predicted.size(), "predicted forces");
  require_atoms(system, reference.size(), "reference forces");
  std::vector<double> errors(static_cast<std::size_t>(system.residue_count()), 0.0);
  for (int a = 0; a < system.atom_count(); ++a)
    errors[static_cast<std::size_t>(system.atom_residue[static_cast<std::size_t>(a)])] +=
        norm(predicted[static_cast<std::size_t>(a)] - reference[static_cast<std::size_t>(a)]);
  for (std::size_t r = 0; r < errors.size(); ++r)
    errors[r] = system.residues[r].atom_count > 0 ? errors[r] / system.residues[r].atom_count
                                                  : std::numeric_limits<double>::quiet_NaN();
  return errors;
}

void write_residue_csv(const std::string& path, const System& system, const ResidueAnnotation& annotation) {
  const auto n = static_cast<std::size_t>(system.residue_count());
  if (annotation.energy.size() != n || annotation.force.size() != n || annotation.centre.size() != n ||
      annotation.in_pocket.size() != n ||
      (!annotation.force_error.empty() && annotation.force_error.size() != n))
    throw UsageError("write_residue_csv: the annotation does not have one value per residue");
  bool any_solute = false;
  for (const auto& residue : system.residues) any_solute = any_solute || !is_solvent(residue.kind);
  std::string text =
      "chain,residue_number,residue_name,kind,energy_kJ_mol,force_error_kJ_mol_A,force_norm_kJ_mol_A,"
      "force_x,force_y,force_z,centre_x,centre_y,centre_z,in_pocket\n";
  for (std::size_t r = 0; r < n; ++r) {
    const Residue& residue = system.residues[r];
    if (any_solute && is_solvent(residue.kind)) continue;
    const std::string chain =
        residue.chain >= 0 ? system.chains[static_cast<std::size_t>(residue.chain)].name : "";
    std::string seq = std::to_string(residue.seq);
    if (residue.insertion != ' ') seq += residue.insertion;
    const Vec3& f = annotation.force[r];
    const Vec3& c = annotation.centre[r];
    text += csv_field(chain) + ',' + seq + ',' + csv_field(residue.name) + ',' + to_string(residue.kind) +
            ',' + number(annotation.energy[r], "%.8g") + ',' +
            (annotation.force_error.empty() ? std::string() : number(annotation.force_error[r], "%.8g")) +
            ',' + number(norm(f), "%.8g") + ',' + number(f.x, "%.8g") + ',' + number(f.y, "%.8g") + ',' +
            number(f.z, "%.8g") + ',' + number(c.x, "%.4f") + ',' + number(c.y, "%.4f") + ',' +
            number(c.z, "%.4f") + ',' + (annotation.in_pocket[r] ? "1" : "0") + '\n';
  }
  write_file_atomically(path, text);
}

double arrow_scale(const ResidueAnnotation& annotation, double longest) {
  double largest = 0.0;
  for (std::size_t r = 0; r < annotation.force.size(); ++r)
    if (annotation.in_pocket[r]) largest = std::max(largest, norm(annotation.force[r]));
  return largest > 0.0 && std::isfinite(largest) ? longest / largest : 1.0;
}

void write_pymol_force_script(const std::string& path, const std::string& structure_file,
                              const System& system, const ResidueAnnotation& annotation, double scale) {
  const std::string object = structure_file.substr(0, structure_file.rfind('.'));
  std::error_code ignored;
  const std::string folder =
      std::filesystem::absolute(std::filesystem::path(path), ignored).parent_path().string();
  std::string text =
      "# PyMOL script written by hemeplm annotate (docs/annotate.md): the summed predicted force of each\n"
      "# pocket residue as an arrow from the residue's centre (CA, else heavy-atom centroid).\n"
      "# Open:  pymol " +
      structure_file +
      " pocket_forces.py      (or inside PyMOL: run pocket_forces.py)\n"
      "# Arrow length = |F| * SCALE; colour = residue energy (blue lowest, white, red highest);\n"
      "# the structure is coloured by B-factor (" +
      structure_file +
      ").\n"
      "import os\n\nfrom pymol import cmd\nfrom pymol.cgo import CONE, CYLINDER\n\n"
      "SCALE = " +
      number(scale, "%.6g") +
      "  # Å of arrow per kJ/mol/Å\n"
      "STRUCTURE = " +
      python_string(structure_file) + "\nOBJECT = " + python_string(object) + "\n" +
      "FOLDER = " + python_string(folder) + "  # where hemeplm annotate wrote it\n" +
      "# (residue, centre (Å), force (kJ/mol/Å), energy (kJ/mol))\nARROWS = [\n";
  for (std::size_t r = 0; r < annotation.force.size(); ++r) {
    if (!annotation.in_pocket[r]) continue;
    const Vec3& c = annotation.centre[r];
    const Vec3& f = annotation.force[r];
    text += "    (" + python_string(residue_label(system, static_cast<int>(r))) + ", (" +
            number(c.x, "%.3f") + ", " + number(c.y, "%.3f") + ", " + number(c.z, "%.3f") + "), (" +
            number(f.x) + ", " + number(f.y) + ", " + number(f.z) + "), " +
            (std::isfinite(annotation.energy[r]) ? number(annotation.energy[r]) : "0.0") + "),\n";
  }
  text += R"PY(]


def _colour(value, low, high):
    """blue (low) - white - red (high)."""
    t = 0.5 if high <= low else (value - low) / (high - low)
    return (min(1.0, 2.0 * t), 1.0 - abs(2.0 * t - 1.0), min(1.0, 2.0 - 2.0 * t))


def draw_force_arrows(name="force_arrows", radius=0.2):
    energies = [a[3] for a in ARROWS]
    low, high = (min(energies), max(energies)) if energies else (0.0, 0.0)
    shapes = []
    for _, centre, force, energy in ARROWS:
        tip = [centre[k] + force[k] * SCALE for k in range(3)]
        length = sum((tip[k] - centre[k]) ** 2 for k in range(3)) ** 0.5
        if length < 1e-6:
            continue
        head = min(0.4 * length, 1.2)
        neck = [tip[k] - (tip[k] - centre[k]) * head / length for k in range(3)]
        rgb = _colour(energy, low, high)
        shapes += [CYLINDER, *centre, *neck, radius, *rgb, *rgb]
        shapes += [CONE, *neck, *tip, 2.5 * radius, 0.0, *rgb, *rgb, 1.0, 0.0]
    cmd.delete(name)
    if shapes:
        cmd.load_cgo(shapes, name)
    print("hemeplm annotate: %d force arrows, length = |F| x %g A per kJ/mol/A" % (len(ARROWS), SCALE))


if OBJECT not in cmd.get_names("objects"):
    # PyMOL's "run" sets __file__ to this script; "pymol x.py" leaves pymol's own there.
    _script = globals().get("__file__", "")
    _folders = [os.path.dirname(os.path.abspath(_script))] if _script.endswith("pocket_forces.py") else []
    _folders += [FOLDER, os.getcwd()]
    _found = [f for f in _folders if os.path.isfile(os.path.join(f, STRUCTURE))]
    if not _found:
        raise SystemExit("pocket_forces.py: %s not found in %s" % (STRUCTURE, ", ".join(_folders)))
    cmd.load(os.path.join(_found[0], STRUCTURE), OBJECT)
cmd.hide("everything", OBJECT)
cmd.show("cartoon", OBJECT)
cmd.show("sticks", "%s and organic" % OBJECT)
cmd.spectrum("b", "blue_white_red", OBJECT)
cmd.set("cartoon_transparency", 0.5, OBJECT)  # arrows inside the helices stay visible
draw_force_arrows()
# The whole structure's orientation (as energy.png), zoomed onto the arrows and the ligand.
cmd.orient(OBJECT)
cmd.zoom("force_arrows or (%s and organic)" % OBJECT, 4)
)PY";
  write_file_atomically(path, text);
}

}  // namespace hemeplm::evaluate
