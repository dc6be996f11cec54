// hemeplm annotate: a structure coloured by the checkpoint's per-residue predicted energy (and, against a
// reference frame, per-residue force error) as PDB/mmCIF B-factors, residues.csv, the pocket residues'
// force vectors as a PyMOL arrow script and PNG views (docs/annotate.md). Serial: rank 0 works.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/evaluate/bfactor_structure.hpp"
#include "hemeplm/evaluate/residue_annotation.hpp"
#include "hemeplm/evaluate/residue_prediction.hpp"
#include "hemeplm/evaluate/trajectory.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "options.hpp"

namespace hemeplm::app {
namespace {

namespace ev = evaluate;
namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct AnnotateSettings {
  std::string checkpoint, structure, reference, out, python;
  std::vector<std::string> ligands;
  std::int64_t frame = 0;
  double pocket_radius = 8.0;
  int threads = 0;
  bool images = true, quiet = false;
};

AnnotateSettings read_settings(const po::variables_map& o) {
  AnnotateSettings s;
  if (!o.count("checkpoint")) throw UsageError("hemeplm annotate: --checkpoint FILE is required");
  s.checkpoint = o["checkpoint"].as<std::string>();
  if (o.count("structure")) s.structure = o["structure"].as<std::string>();
  if (o.count("ligand")) s.ligands = o["ligand"].as<std::vector<std::string>>();
  if (o.count("reference")) s.reference = o["reference"].as<std::string>();
  if (s.structure.empty() && s.reference.empty())
    throw UsageError("hemeplm annotate: give --structure FILE (PDB/mmCIF) and/or --reference FILE.h5md");
  if (!s.ligands.empty() && s.structure.empty())
    throw UsageError("hemeplm annotate: --ligand needs --structure (a reference H5MD has its ligands)");
  if (o.count("frame")) {
    if (s.reference.empty()) throw UsageError("hemeplm annotate: --frame needs --reference FILE.h5md");
    s.frame = o["frame"].as<std::int64_t>();
  }
  if (!o.count("out")) throw UsageError("hemeplm annotate: --out DIR is required");
  s.out = o["out"].as<std::string>();
  s.pocket_radius = o["pocket-radius"].as<double>();
  require_range("pocket-radius", s.pocket_radius, 0.5, 100.0);
  if (o.count("python")) s.python = o["python"].as<std::string>();
  s.threads = o["threads"].as<int>();
  require_range("threads", s.threads, 0, 4096);
  s.images = !o["no-images"].as<bool>();
  s.quiet = o["quiet"].as<bool>();
  return s;
}

/// InputError naming both files unless the structure has the reference's atoms in the same order.
void require_same_atoms(const System& structure, const std::string& structure_path, const System& reference,
                        const std::string& reference_path) {
  if (structure.atom_count() != reference.atom_count())
    throw InputError(reference_path, "has " + std::to_string(reference.atom_count()) + " atoms but " +
                                         structure_path + " has " + std::to_string(structure.atom_count()) +
                                         ": give the structure the reference was made from");
  for (int a = 0; a < structure.atom_count(); ++a) {
    const auto ua = static_cast<std::size_t>(a);
    if (structure.atomic_numbers[ua] != reference.atomic_numbers[ua] ||
        structure.atom_names[ua] != reference.atom_names[ua])
      throw InputError(reference_path, "atom " + std::to_string(a + 1),
                       "is " + reference.atom_names[ua] +
                           " (Z=" + std::to_string(reference.atomic_numbers[ua]) + ") but " +
                           structure.describe_atom(a) + " is " + structure.atom_names[ua] +
                           " (Z=" + std::to_string(structure.atomic_numbers[ua]) + "): other atoms");
  }
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

class AnnotateCommand final : public Command {
 public:
  const char* name() const override { return "annotate"; }
  const char* summary() const override {
    return "a structure coloured by per-residue predicted energy and force error, with force arrows";
  }
  const char* usage() const override {
    return "--checkpoint FILE (--structure FILE [--ligand FILE]... | --reference FILE.h5md [--frame K]) "
           "[--pocket-radius R] --out DIR";
  }
  void add_options(po::options_description& options) const override {
    options.add_options()("checkpoint", po::value<std::string>()->value_name("FILE"),
                          "training checkpoint (hemeplm train) whose energy head was trained")(
        "structure", po::value<std::string>()->value_name("FILE"),
        "structure to annotate (PDB or mmCIF); with --reference it names the atoms and must have the "
        "reference's atoms in the same order")(
        "ligand", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
        "ligand file (SDF/MOL2) of --structure; repeatable")(
        "reference", po::value<std::string>()->value_name("FILE"),
        "hemeplm H5MD (reference MD or dataset): annotate its frame --frame; with forces, also the "
        "per-residue force error")("frame", po::value<std::int64_t>()->value_name("K"),
                                   "frame of --reference, counted from 0 (default 0)")(
        "pocket-radius", po::value<double>()->default_value(8.0)->value_name("R"),
        "pocket: residues with a heavy atom within R Å of a ligand heavy atom")(
        "out", po::value<std::string>()->value_name("DIR"), "output folder (created)")(
        "no-images", po::bool_switch(), "write no PNG files (no matplotlib, no pymol)")(
        "python", po::value<std::string>()->value_name("PATH"),
        "Python with matplotlib for pocket_forces.png (default: /usr/bin/python3, else python3 on PATH)")(
        "threads", po::value<int>()->default_value(0)->value_name("N"), "torch threads (0 = all cores)")(
        "quiet", po::bool_switch(), "no progress lines");
  }
  void add_positionals(po::positional_options_description&) const override {}
  const char* epilog() const override {
    return "Writes DIR/energy.pdb and DIR/energy.cif (B-factor = the residue's predicted energy, kJ/mol),\n"
           "with a reference that has forces DIR/force_error.pdb/.cif (mean |F_pred - F_ref| of the "
           "residue's\n"
           "atoms, kJ/mol/Å), DIR/residues.csv, DIR/pocket_forces.py (PyMOL: pymol DIR/energy.pdb\n"
           "DIR/pocket_forces.py), DIR/summary.json, and when matplotlib and Debian's pymol are installed\n"
           "DIR/pocket_forces.png, DIR/energy.png and DIR/pocket_forces_3d.png (docs/annotate.md).\n"
           "PDB B-factors that do not fit columns 61-66 are scaled by a power of ten, stated in REMARK 99.\n"
           "Example:\n"
           "  hemeplm annotate --checkpoint ck/checkpoint-000001000.h5 --structure complex.pdb \\\n"
           "      --ligand ligand.sdf --out annotated\n"
           "  hemeplm annotate --checkpoint ck/checkpoint-000001000.h5 --reference ref.h5md --frame 40 \\\n"
           "      --out annotated\n";
  }

  int run(const po::variables_map& options, const RunContext& context) const override {
    const AnnotateSettings s = read_settings(options);
    return run_on_root(context, [&] { return annotate(s, *context.out); });
  }

 private:
  static int annotate(const AnnotateSettings& s, std::ostream& out) {
    const auto start = std::chrono::steady_clock::now();
    std::ostream silent(nullptr);
    std::ostream& log = s.quiet ? silent : out;

    // The atoms: the structure (with its ligands), or the reference's topology; positions and reference
    // forces from the reference frame when there is one.
    System system;
    std::string system_path = s.structure;
    std::vector<Vec3> reference_forces;
    if (!s.structure.empty()) system = load_system({s.structure, s.ligands});
    if (!s.reference.empty()) {
      const std::int64_t frames = parallel_io::H5mdReader(s.reference).frame_count();
      if (s.frame < 0 || s.frame >= frames)
        throw InputError(s.reference, "frame " + std::to_string(s.frame),
                         "is out of range: the file has frames 0 to " + std::to_string(frames - 1));
      ev::Trajectory frame = ev::read_trajectory(s.reference, s.frame, 1);
      if (s.structure.empty()) {
        system = std::move(frame.system);
        system_path = s.reference;
      } else {
        require_same_atoms(system, s.structure, frame.system, s.reference);
      }
      system.positions = frame.positions;
      if (frame.has_forces()) reference_forces = frame.forces;
    }
    log << "annotate: " << system.atom_count() << " atoms, " << system.residue_count() << " residues from "
        << system_path << (s.reference.empty() ? "" : " (frame " + std::to_string(s.frame) + ")")
        << std::endl;

    std::error_code error;
    fs::create_directories(s.out, error);
    if (error || !fs::is_directory(s.out))
      throw InputError(s.out, "cannot create the output folder: " + error.message());
    const fs::path dir(s.out);

    ev::ResiduePredictionOptions prediction_options;
    prediction_options.checkpoint = s.checkpoint;
    prediction_options.threads = s.threads;
    const ev::ResiduePrediction prediction =
        ev::predict_residues(prediction_options, system, system_path, system.positions);
    std::vector<std::string> notes = prediction.notes;

    ev::ResidueAnnotation annotation;
    annotation.energy = prediction.residue_energy;
    annotation.force = ev::residue_force_sums(system, prediction.forces);
    annotation.centre = ev::residue_centres(system, system.positions);
    annotation.in_pocket = ev::pocket_residues(system, system.positions, s.pocket_radius);
    if (!reference_forces.empty())
      annotation.force_error = ev::residue_force_errors(system, prediction.forces, reference_forces);
    else if (!s.reference.empty())
      notes.push_back(s.reference + " has no forces: no force error written");
    const bool has_ligand = !system.ligand_molecules().empty();
    if (!has_ligand) notes.push_back("no ligand: every residue but water and ions gets a force arrow");

    std::vector<std::string> written;
    auto write_structures = [&](const std::string& stem, const std::vector<double>& residue_values,
                                const ev::BFactorContent& content) {
      const auto atom_values = ev::residue_values_per_atom(system, residue_values);
      const auto scale = ev::write_bfactor_pdb((dir / (stem + ".pdb")).string(), system, system.positions,
                                               atom_values, content);
      ev::write_bfactor_mmcif((dir / (stem + ".cif")).string(), system, system.positions, atom_values,
                              content);
      written.push_back(stem + ".pdb");
      written.push_back(stem + ".cif");
      if (scale.scale != 1.0) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", scale.scale);
        notes.push_back(stem + ".pdb: B-factors are the values times " + std::string(text) +
                        " to fit PDB's columns (REMARK 99); " + stem + ".cif holds them unscaled");
      }
      return scale.scale;
    };
    const double energy_scale =
        write_structures("energy", annotation.energy, {"per-residue predicted energy", "kJ/mol"});
    double error_scale = 1.0;
    if (!annotation.force_error.empty())
      error_scale = write_structures("force_error", annotation.force_error,
                                     {"per-residue mean |F_pred - F_ref|", "kJ/mol/A"});
    ev::write_residue_csv((dir / "residues.csv").string(), system, annotation);
    written.push_back("residues.csv");
    const double scale = ev::arrow_scale(annotation);
    ev::write_pymol_force_script((dir / "pocket_forces.py").string(), "energy.pdb", system, annotation,
                                 scale);
    written.push_back("pocket_forces.py");

    std::vector<std::string> images;
    if (s.images) {
      for (const auto& result :
           {ev::render_force_projection(s.out, s.python, log), ev::render_pymol(s.out, 800, 600, log)}) {
        images.insert(images.end(), result.written.begin(), result.written.end());
        notes.insert(notes.end(), result.notes.begin(), result.notes.end());
      }
    } else {
      notes.push_back("--no-images: no PNG files");
    }
    written.insert(written.end(), images.begin(), images.end());

    int pocket_count = 0;
    for (const char p : annotation.in_pocket) pocket_count += p;
    ordered_json summary;
    summary["format"] = "hemeplm-annotate";
    summary["checkpoint"] = s.checkpoint;
    summary["checkpoint_step"] = prediction.checkpoint_step;
    summary["structure"] = system_path;
    summary["frame"] = s.reference.empty() ? ordered_json(nullptr) : ordered_json(s.frame);
    summary["atoms"] = system.atom_count();
    summary["residues"] = system.residue_count();
    summary["energy_kJ_mol"] = prediction.energy;
    summary["energy_offset_kJ_mol"] = prediction.energy_offset;
    summary["pocket_radius_A"] = s.pocket_radius;
    summary["pocket_residues"] = pocket_count;
    summary["arrow_scale_A_per_kJ_mol_A"] = scale;
    summary["pdb_bfactor_scale"] = {{"energy", energy_scale}, {"force_error", error_scale}};
    written.push_back("summary.json");
    summary["files"] = written;
    summary["notes"] = notes;
    write_file_atomically((dir / "summary.json").string(), summary.dump(2) + "\n");

    for (const auto& note : notes) log << "annotate: note: " << note << '\n';
    out << "energy " << fixed(prediction.energy, 3) << " kJ/mol (residues sum to "
        << fixed(prediction.energy - prediction.energy_offset, 3) << ", head offset "
        << fixed(prediction.energy_offset, 3) << "); " << pocket_count << " pocket residues; arrow scale "
        << scale << " Å per kJ/mol/Å\n";
    out << "wrote " << written.size() << " files to " << s.out << " in "
        << fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1) << " s"
        << std::endl;
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_annotate_command() {
  return std::make_unique<AnnotateCommand>();
}

}  // namespace hemeplm::app
