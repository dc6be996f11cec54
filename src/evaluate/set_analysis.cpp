// One set's structure and dynamics analysis and the trivial baseline (see set_analysis.hpp).
#include "hemeplm/evaluate/set_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "hemeplm/evaluate/linear_algebra.hpp"

namespace hemeplm::evaluate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_solvent(const System& system, int residue) {
  const ResidueKind kind = system.residues[residue].kind;
  return kind == ResidueKind::kWater || kind == ResidueKind::kIon;
}

}  // namespace

AnalysisFrame make_analysis_frame(const Trajectory& reference,
                                  const std::vector<std::array<int, 4>>& torsions) {
  const System& system = reference.system;
  AnalysisFrame frame;
  frame.internal = heavy_internal_coordinates(system);
  frame.backbone = backbone_dihedrals(system);
  frame.decorrelation_torsions = torsions;
  const std::vector<int> heavy = heavy_atoms(system);
  for (int i : heavy)
    if (!is_solvent(system, system.atom_residue[i])) frame.fit_atoms.push_back(i);
  if (frame.fit_atoms.empty()) frame.fit_atoms = heavy;
  for (int r = 0; r < system.residue_count(); ++r)
    if (!is_solvent(system, r)) frame.rmsf_residues.push_back(r);

  std::vector<char> is_ligand(system.atom_count(), 0);
  for (int m : system.ligand_molecules())
    for (int r : system.molecules[m].residues) {
      const Residue& residue = system.residues[r];
      for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i)
        if (system.atomic_numbers[i] > 1) {
          is_ligand[i] = 1;
          frame.ligand_atoms.push_back(i);
        }
    }
  if (frame.ligand_atoms.empty()) return frame;
  const auto first = reference.frame(0);
  frame.pocket_target.assign(first.begin(), first.end());
  const double r2 = AnalysisFrame::kPocketRadius * AnalysisFrame::kPocketRadius;
  for (int i : frame.fit_atoms) {
    if (is_ligand[i]) continue;
    for (int j : frame.ligand_atoms)
      if (norm2(first[i] - first[j]) <= r2) {
        frame.pocket_atoms.push_back(i);
        break;
      }
  }
  // Fewer than three atoms define no frame to superpose on.
  if (frame.pocket_atoms.size() < 3) frame.pocket_atoms.clear();
  return frame;
}

std::vector<double> rmsf_per_atom(const Trajectory& t, const std::vector<int>& fit_atoms) {
  const int n = t.atom_count();
  std::vector<Vec3> sum(n), aligned(n);
  std::vector<double> sum2(n, 0.0);
  const auto target = t.frame(0);
  for (std::int64_t f = 0; f < t.frame_count; ++f) {
    const auto x = t.frame(f);
    const Superposition fit = superpose(x, target, fit_atoms);
    for (int i = 0; i < n; ++i) {
      aligned[i] = fit.apply(x[i]);
      sum[i] += aligned[i];
      sum2[i] += norm2(aligned[i]);
    }
  }
  std::vector<double> rmsf(n);
  const double frames = static_cast<double>(t.frame_count);
  for (int i = 0; i < n; ++i) {
    const Vec3 mean = sum[i] * (1.0 / frames);
    rmsf[i] = std::sqrt(std::max(sum2[i] / frames - norm2(mean), 0.0));
  }
  return rmsf;
}

double frame_spacing_ps(const Trajectory& t) {
  std::vector<double> steps;
  for (std::size_t f = 1; f < t.time_ps.size(); ++f) steps.push_back(t.time_ps[f] - t.time_ps[f - 1]);
  if (steps.empty()) return 0.0;
  std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
  const double spacing = steps[steps.size() / 2];
  return spacing > 0 ? spacing : 0.0;
}

std::vector<double> torsion_decorrelation_ps(const Trajectory& t,
                                             const std::vector<std::array<int, 4>>& torsions) {
  const double dt = frame_spacing_ps(t);
  const std::int64_t frames = t.frame_count, max_lag = frames / 2;
  std::vector<double> result(torsions.size(), kNaN);
  if (dt <= 0) return result;
  std::vector<double> c(frames), s(frames);
  for (std::size_t k = 0; k < torsions.size(); ++k) {
    const auto& q = torsions[k];
    for (std::int64_t f = 0; f < frames; ++f) {
      const auto x = t.frame(f);
      const double angle = dihedral(x[q[0]], x[q[1]], x[q[2]], x[q[3]]);
      c[f] = std::cos(angle);
      s[f] = std::sin(angle);
    }
    for (std::int64_t lag = 1; lag <= max_lag; ++lag) {
      const std::int64_t origins = frames - lag, used = std::min<std::int64_t>(origins, 2000);
      double sum = 0;
      for (std::int64_t i = 0; i < used; ++i) {
        const std::int64_t t0 = i * origins / used;
        sum += c[t0 + lag] * c[t0] + s[t0 + lag] * s[t0];  // cos(θ(t+τ) − θ(t))
      }
      if (sum / used < std::exp(-1.0)) {
        result[k] = lag * dt;
        break;
      }
    }
  }
  return result;
}

SetAnalysis analyse_set(const AnalysisFrame& frame, const Trajectory& t) {
  SetAnalysis a;
  const auto& ic = frame.internal;
  const std::size_t pairs = frame.backbone.residues.size();
  a.phi.reserve(pairs * t.frame_count);
  a.psi.reserve(pairs * t.frame_count);
  const auto first = t.frame(0);
  for (std::int64_t f = 0; f < t.frame_count; ++f) {
    const auto x = t.frame(f);
    for (const auto& b : ic.bonds) a.bond_length.add(100.0 * distance(x[b[0]], x[b[1]]));
    for (const auto& g : ic.angles) a.bond_angle.add(bond_angle(x[g[0]], x[g[1]], x[g[2]]));
    for (const auto& q : ic.torsions) a.torsion.add(dihedral(x[q[0]], x[q[1]], x[q[2]], x[q[3]]));
    for (std::size_t p = 0; p < pairs; ++p) {
      const auto& phi = frame.backbone.phi[p];
      const auto& psi = frame.backbone.psi[p];
      a.phi.push_back(dihedral(x[phi[0]], x[phi[1]], x[phi[2]], x[phi[3]]));
      a.psi.push_back(dihedral(x[psi[0]], x[psi[1]], x[psi[2]], x[psi[3]]));
      a.phi_psi.add(a.phi.back(), a.psi.back());
    }
    a.rmsd.push_back(superposed_rmsd(x, first, frame.fit_atoms));
    a.rg.push_back(radius_of_gyration(x, frame.fit_atoms));
    if (!frame.pocket_atoms.empty()) {
      const Superposition fit = superpose(x, frame.pocket_target, frame.pocket_atoms);
      double sum = 0;
      for (int i : frame.ligand_atoms) sum += norm2(fit.apply(x[i]) - frame.pocket_target[i]);
      a.ligand_rmsd.push_back(std::sqrt(sum / frame.ligand_atoms.size()));
    }
  }
  const std::vector<double> rmsf = rmsf_per_atom(t, frame.fit_atoms);
  const System& system = t.system;
  for (int r : frame.rmsf_residues) {
    const Residue& residue = system.residues[r];
    double heavy_sum = 0, all_sum = 0;
    int heavy = 0;
    for (int i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i) {
      all_sum += rmsf[i];
      if (system.atomic_numbers[i] > 1) heavy_sum += rmsf[i], ++heavy;
    }
    a.rmsf_residue.push_back(heavy > 0 ? heavy_sum / heavy : all_sum / std::max(residue.atom_count, 1));
  }
  a.decorrelation_ps = torsion_decorrelation_ps(t, frame.decorrelation_torsions);
  return a;
}

Trajectory trivial_baseline(const Trajectory& reference, const std::vector<int>& fit_atoms,
                            std::uint64_t seed) {
  const std::vector<double> rmsf = rmsf_per_atom(reference, fit_atoms);
  Trajectory t;
  t.path = "trivial baseline";
  t.system = reference.system;
  t.frame_count = reference.frame_count;
  t.time_ps = reference.time_ps;
  const int n = reference.atom_count();
  const auto start = reference.frame(0);
  t.positions.resize(reference.positions.size());
  std::mt19937_64 random(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  for (std::int64_t f = 0; f < t.frame_count; ++f)
    for (int i = 0; i < n; ++i) {
      // |noise|² has mean 3σ² = RMSF², so the generator's RMSF matches the reference's.
      const double sigma = rmsf[i] / std::sqrt(3.0);
      const double dx = gauss(random), dy = gauss(random), dz = gauss(random);
      t.positions[f * n + i] = start[i] + Vec3{dx, dy, dz} * sigma;
    }
  return t;
}

}  // namespace hemeplm::evaluate
