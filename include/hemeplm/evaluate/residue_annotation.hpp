// What 'hemeplm annotate' says per residue (docs/annotate.md): the predicted energy, the force error
// against a reference frame, the summed predicted force drawn at the residue's centre, and whether the
// residue lines the ligand pocket; written as residues.csv and as a PyMOL script of CGO arrows, then
// rendered to PNG by tools/annotate_render.py (matplotlib) and Debian's pymol when present. Torch-free:
// the model's numbers come in as plain arrays.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

/// Per-residue values, each vector of size system.residue_count().
struct ResidueAnnotation {
  std::vector<double> energy;       ///< predicted energy, kJ/mol (atom energies summed per residue)
  std::vector<double> force_error;  ///< mean |F_pred - F_ref| over the atoms, kJ/mol/Å; empty: no reference
  std::vector<Vec3> force;          ///< sum of the predicted atomic forces, kJ/mol/Å
  std::vector<Vec3> centre;         ///< CA, else the centroid of the heavy atoms (all atoms if none), Å
  std::vector<char> in_pocket;      ///< 1: drawn as a force arrow (pocket_residues)
};

/// Residues of the ligand pocket: a residue that is not water, an ion or a ligand and has a heavy atom
/// within `radius` Å of a heavy atom of a ligand molecule (System::ligand_molecules), plus the ligand
/// residues themselves. Without ligand molecules: every residue but water and ions (all residues when
/// nothing else is left). Plain minimum-image-free distances (the frame as written).
std::vector<char> pocket_residues(const System& system, Span<const Vec3> positions, double radius);

/// CA of each residue when it has one, else the centroid of its heavy atoms (all atoms if none).
std::vector<Vec3> residue_centres(const System& system, Span<const Vec3> positions);

/// Sum of the atomic forces per residue.
std::vector<Vec3> residue_force_sums(const System& system, Span<const Vec3> forces);

/// Per residue, the mean over its atoms of |predicted - reference| (Euclidean norm of the force
/// difference), kJ/mol/Å. UsageError on size mismatches.
std::vector<double> residue_force_errors(const System& system, Span<const Vec3> predicted,
                                         Span<const Vec3> reference);

/// "A" chain name, residue number (with insertion code) and name, kind, energy, force error (empty
/// without reference), |force|, force components, centre and in_pocket, one row per residue: columns
///   chain,residue_number,residue_name,kind,energy_kJ_mol,force_error_kJ_mol_A,force_norm_kJ_mol_A,
///   force_x,force_y,force_z,centre_x,centre_y,centre_z,in_pocket
/// Water and ions are left out (thousands in a solvated box) unless nothing else is left.
void write_residue_csv(const std::string& path, const System& system, const ResidueAnnotation& annotation);

/// Arrow length per unit force (Å per kJ/mol/Å) that draws the longest pocket arrow `longest` Å long
/// (1 when every pocket force is zero).
double arrow_scale(const ResidueAnnotation& annotation, double longest = 5.0);

/// A PyMOL script (run with `pymol energy.pdb pocket_forces.py`, or `run pocket_forces.py` inside PyMOL)
/// that loads `structure_file` (relative to the script's folder), colours it by B-factor and draws one
/// CGO arrow (cylinder + cone) per pocket residue from its centre along its force, length = |F| * scale
/// Å, coloured by energy; the scale is printed and written in a comment.
void write_pymol_force_script(const std::string& path, const std::string& structure_file,
                              const System& system, const ResidueAnnotation& annotation, double scale);

/// What the renderers did: files written (relative to the output folder) and notes on what was skipped.
struct RenderResult {
  std::vector<std::string> written;
  std::vector<std::string> notes;
};

/// Runs tools/annotate_render.py (found like evaluate_plots.py: $HEMEPLM_ANNOTATE_SCRIPT, then
/// <exe>/../share/hemeplm, then the source tree) on out_dir: pocket_forces.png from residues.csv. Never
/// throws for a missing plotting stack: the reason goes to the notes.
RenderResult render_force_projection(const std::string& out_dir, const std::string& python,
                                     std::ostream& log);

/// Runs Debian's `pymol -cq` (PATH=/usr/bin first, as its launcher needs) to ray-trace out_dir/energy.png
/// (cartoon + ligand sticks coloured by B-factor) and out_dir/pocket_forces_3d.png (with the arrows of
/// pocket_forces.py), width x height. Without pymol the notes say so; never throws for a failing pymol.
RenderResult render_pymol(const std::string& out_dir, int width, int height, std::ostream& log);

}  // namespace hemeplm::evaluate
