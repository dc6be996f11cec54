// hemeplm sample: trajectories from a trained checkpoint and a structure, for systems split into the
// rank plan's overlapping fragments (decomposed_model.hpp), streamed into one H5MD file.
//
// Blocks of T frames (the checkpoint's training window unless --block-frames) are sampled one after
// the other; each block conditions on the last frame of the previous one (forecast, inpaint), so
// memory does not grow with the trajectory. Within a block every (atom, frame) entry is known (clean,
// given) or free (generated). The coordinates are centred on the block's given entries, as training
// centred x0; the free entries start at sqrt(abar) times their given centroid plus noise, which keeps
// the centroid of the free entries exactly where the data put it (see docs/sampling.md). Noise is keyed
// by (seed, block, step, frame, global atom id), so any rank count gives the same trajectory.
// The rolling sampler (--rolling) keeps one window instead and emits a frame per model call.
// Torch-free header: the CLI includes it.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"

namespace hemeplm::sample {

struct SampleOptions {
  std::string checkpoint;
  std::string mode = "forecast";  ///< forecast | tps | inpaint | unconditional
  std::string inpaint_atoms;      ///< selection (selection.hpp), inpaint only
  std::int64_t frames = 100;      ///< generated frames (tps: frames between start and end)
  std::int64_t block_frames = 0;  ///< T per block; 0 = the checkpoint's training window
  std::int64_t steps = 0;         ///< denoising steps; 0 = the checkpoint's diffusion steps
  std::string sampler = "ddpm";   ///< ddpm | ddim
  double eta = 0.0;               ///< DDIM stochasticity
  /// Clips each atom's predicted clean position x0_hat to at most this distance (Å) from its conditioning
  /// position (forecast: the block's start frame; tps: the start-end interpolation) at every denoising
  /// step, then re-derives eps_hat from it: the coordinate analogue of DDPM's x0 clipping, which keeps an
  /// imperfect model's chain from running away. 0 = off (the plain sampler).
  double clip_x0 = 0.0;
  /// Rolling (diagonal) sampler, forecast only: the window's T - 1 free frames sit at staggered noise
  /// levels, each model call advances every frame one level and finishes one frame (docs/sampling.md).
  /// Needs a checkpoint trained with --per-frame-noise; the levels are a `steps`-step schedule (a multiple
  /// of T - 1; default T - 1, one level per position): a frame is finished every steps / (T - 1) calls.
  bool rolling = false;
  std::uint64_t seed = 0;
  std::string ranks_plan;  ///< plan file; empty = make one for this run's ranks
  /// Per-residue embeddings (HDF5/NPY, docs/residue-embeddings.md) for a checkpoint trained with
  /// --residue-embeddings; empty = none (an error for such a checkpoint).
  std::string residue_embeddings;
  int core_residues = 32;  ///< plan made here: residues per fragment core (larger: less overlap)
  double buffer = 10.0;    ///< Å, plan made here: buffer radius
  double blend = 2.0;      ///< Å, plan made here: weight taper width
  std::int64_t max_batch_atoms = 20000;
  std::string out;  ///< FILE.h5md
  bool resume = false;
  bool energies = false;  ///< per-frame potential energy from the energy head
  bool use_ema = true;    ///< the checkpoint's EMA weights (what validation used)
  bool float64 = false;
  int threads = 0;  ///< torch threads per rank (0 = cores / ranks on the node)
  bool quiet = false;
};

struct SampleReport {
  std::int64_t frames_written = 0;  ///< including frame 0
  std::int64_t blocks = 0;          ///< sampled by this run (not those resumed from the file)
  std::int64_t resumed_frames = 0;
  double seconds = 0;  ///< sampling wall time (setup excluded)
  double setup_seconds = 0;
  double seconds_per_step = 0;  ///< one denoising step of one block, all ranks together
  double frames_per_second = 0;
  double dt_ps = 0;
  double ns_per_day = 0;
  double peak_rss_gb = 0;  ///< this rank's peak resident memory
  int fragments = 0, ranks = 1;
  double model_share = 0, halo_share = 0, all_reduce_share = 0;
};

/// Collective over `comm`. `end` is the tps end structure (same topology). Writes options.out (via
/// OUT.partial, renamed when complete; a failed run removes its partial file unless it was killed).
/// UsageError/InputError with a one-line message for every bad input (the CLI exits 2).
SampleReport run_sampling(MPI_Comm comm, const System& system, const std::optional<System>& end,
                          const SampleOptions& options, std::ostream* log);

/// The atoms an inpainting selection names (ascending). Grammar: clauses joined by " or ", each one of
/// "ligand", "index I[-J][,...]" (0-based), "resid N[-M][,...]" (author numbers), "resname A[,B...]",
/// "name A[,B...]", "chain A[,B...]". UsageError naming the clause for bad syntax or an empty result.
std::vector<int> select_atoms_by(const System& system, const std::string& selection);

}  // namespace hemeplm::sample
