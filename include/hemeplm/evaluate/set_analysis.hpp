// Per-set structure and dynamics analysis for 'hemeplm evaluate': the internal-coordinate histograms,
// backbone dihedrals, RMSD/Rg/RMSF, ligand RMSD in the pocket frame and torsion decorrelation times of
// one trajectory, plus the trivial baseline generator. Units: Å, ps, radians unless a name says otherwise.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "hemeplm/evaluate/geometry.hpp"
#include "hemeplm/evaluate/histogram.hpp"
#include "hemeplm/evaluate/trajectory.hpp"

namespace hemeplm::evaluate {

// Histogram ranges of docs/evaluation.md (the EGInterpolator paper's).
inline constexpr int kDistributionBins = 100;
inline constexpr double kBondLengthMinPm = 100, kBondLengthMaxPm = 220;
inline constexpr int kPhiPsiBins = 36;

/// What every set is measured with; derived once from the reference.
struct AnalysisFrame {
  InternalCoordinates internal;
  BackboneDihedrals backbone;
  std::vector<int> fit_atoms;       ///< heavy atoms outside water and ions (all heavy atoms if none)
  std::vector<int> ligand_atoms;    ///< heavy atoms of the ligand molecules (empty: no ligand)
  std::vector<int> pocket_atoms;    ///< non-ligand fit atoms within kPocketRadius of the ligand
  std::vector<Vec3> pocket_target;  ///< the reference's first frame (all atoms)
  std::vector<int> rmsf_residues;   ///< residues outside water and ions, in order
  std::vector<std::array<int, 4>> decorrelation_torsions;
  static constexpr double kPocketRadius = 8.0;
};
AnalysisFrame make_analysis_frame(const Trajectory& reference,
                                  const std::vector<std::array<int, 4>>& torsions);

struct SetAnalysis {
  Histogram bond_length{kBondLengthMinPm, kBondLengthMaxPm, kDistributionBins};  ///< pm
  Histogram bond_angle{0, 3.14159265358979323846, kDistributionBins};
  Histogram torsion{-3.14159265358979323846, 3.14159265358979323846, kDistributionBins};
  Histogram2D phi_psi{-3.14159265358979323846, 3.14159265358979323846, kPhiPsiBins,
                      -3.14159265358979323846, 3.14159265358979323846, kPhiPsiBins};
  std::vector<double> phi, psi;          ///< [frame x pair] radians
  std::vector<double> rmsd;              ///< [frame] to the set's first frame after superposition
  std::vector<double> rg;                ///< [frame]
  std::vector<double> ligand_rmsd;       ///< [frame] in the pocket frame; empty without a ligand
  std::vector<double> rmsf_residue;      ///< [rmsf_residues]
  std::vector<double> decorrelation_ps;  ///< [decorrelation_torsions], NaN when not reached
};
SetAnalysis analyse_set(const AnalysisFrame& frame, const Trajectory& trajectory);

/// RMSF (Å) of every atom about its mean after superposing each frame onto frame 0 on `fit_atoms`.
std::vector<double> rmsf_per_atom(const Trajectory& trajectory, const std::vector<int>& fit_atoms);

/// Median spacing of time_ps (ps); 0 when the times do not increase.
double frame_spacing_ps(const Trajectory& trajectory);

/// For each torsion θ: C(τ) = mean_t cos(θ(t+τ) − θ(t)); the first τ (ps) with C(τ) < 1/e, NaN when not
/// reached for τ up to half the frames (or the frame spacing is unknown). At most 2000 evenly spaced
/// time origins per τ keep long trajectories cheap.
std::vector<double> torsion_decorrelation_ps(const Trajectory& trajectory,
                                             const std::vector<std::array<int, 4>>& torsions);

/// The trivial generator: the reference's first frame plus isotropic Gaussian noise with per-component
/// σ = RMSF/√3 of each atom (reference RMSF about its mean after superposition on `fit_atoms`), as many
/// frames as the reference, with the reference's times. Deterministic for a seed.
Trajectory trivial_baseline(const Trajectory& reference, const std::vector<int>& fit_atoms,
                            std::uint64_t seed);

}  // namespace hemeplm::evaluate
