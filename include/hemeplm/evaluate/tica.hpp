// Time-lagged independent component analysis (TICA) for comparing slow motions: fitted on the reference
// trajectory's features, applied to every set. Features are (cos, sin) of heavy-atom torsions, or
// heavy-atom pair distances for molecules with fewer than two torsions.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "hemeplm/evaluate/geometry.hpp"
#include "hemeplm/evaluate/trajectory.hpp"

namespace hemeplm::evaluate {

/// Which internal coordinates become TICA features (and whose decorrelation times are reported).
struct TicaFeatures {
  std::vector<std::array<int, 4>> torsions;  ///< each gives cos θ and sin θ
  std::vector<std::array<int, 2>> pairs;     ///< each gives a distance (Å); used when torsions < 2
  int dim() const { return static_cast<int>(2 * torsions.size() + pairs.size()); }
};

/// Backbone φ/ψ/ω first, then evenly chosen other heavy-atom torsions, at most `cap` torsions; with fewer
/// than two heavy-atom torsions, at most `cap` evenly chosen heavy-atom pairs.
TicaFeatures choose_tica_features(const System& system, int cap = 300);

/// Every frame's features, frames x dim row-major.
std::vector<double> tica_feature_matrix(const TicaFeatures& features, const Trajectory& trajectory);

struct TicaModel {
  int dim = 0;
  int lag = 1;                      ///< frames
  std::vector<double> mean;         ///< [dim]
  std::vector<double> eigenvalues;  ///< [dim], descending (autocorrelations at the lag)
  std::vector<double> components;   ///< [dim x dim] row-major; column k maps features to TICA-k
};

/// Fits TICA on `frames` x `dim` features with lag `lag` frames: mean over both halves of the lagged
/// pairs, C0 = (X0ᵀX0 + X1ᵀX1)/2, Cτ = (X0ᵀX1 + X1ᵀX0)/2 (both / pair count), then Cτ v = λ C0 v with C0
/// regularised by 1e-6·trace/dim, solved through Cholesky whitening and the Jacobi solver.
/// UsageError when frames <= lag.
TicaModel fit_tica(const std::vector<double>& features, std::int64_t frames, int dim, int lag);

/// The first `count` TICA coordinates of every frame, frames x count row-major.
std::vector<double> tica_project(const TicaModel& model, const std::vector<double>& features,
                                 std::int64_t frames, int count);

}  // namespace hemeplm::evaluate
