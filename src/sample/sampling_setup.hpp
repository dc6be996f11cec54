// Everything a sampling run needs before its first block: the checkpoint's model and training facts,
// the rank plan, the whole-system input, the sampling schedule and the mode's frames; plus the output
// file (fresh or resumed) and the error raised when sampling produces non-finite values.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "hemeplm/diffusion/sampling.hpp"
#include "hemeplm/diffusion/schedule.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/sample/decomposed_model.hpp"
#include "hemeplm/sample/fragment_input.hpp"
#include "hemeplm/sample/sampler.hpp"

namespace hemeplm::sample {

enum class Mode { kForecast, kTps, kInpaint, kUnconditional };

struct SamplingSetup {
  Mode mode = Mode::kForecast;
  model::HemePLM model{nullptr};
  std::shared_ptr<const GlobalInput> global;
  decomposition::Plan plan;
  std::int64_t block_frames = 0;  ///< T
  std::int64_t blocks = 0;
  std::int64_t frames_per_block =
      0;                          ///< output frames per block (1 for the rolling sampler: a block is a call)
  std::int64_t total_frames = 0;  ///< in the finished file, frame 0 included
  std::vector<int> inpaint;       ///< generated atoms (inpaint)
  torch::Tensor end_positions;    ///< [N, 3] float64 (tps)
  double dt_ps = 0;
  std::unique_ptr<diffusion::NoiseSchedule> noise;
  std::unique_ptr<diffusion::SamplingSchedule> sampling;
  std::string config_json;  ///< what the output file records and --resume compares
};

/// Collective (every rank reads the checkpoint and makes the same plan). UsageError/InputError for bad input.
SamplingSetup prepare_sampling(MPI_Comm comm, const System& system, const std::optional<System>& end,
                               const SampleOptions& options,
                               const std::function<void(const std::string&)>& say);

/// The H5MD output: written as OUT.partial and renamed to OUT when complete. With --resume, the frames
/// of the completed blocks of an existing OUT.partial are carried over and sampling continues after them.
class OutputFile {
 public:
  /// `energy_of` ([N, 3] float64 -> kJ/mol, collective) adds the potential_energy observable per frame.
  OutputFile(MPI_Comm comm, const System& system, const SampleOptions& options, const SamplingSetup& setup,
             const std::function<void(const std::string&)>& say,
             std::function<double(const torch::Tensor&)> energy_of = {});
  ~OutputFile();  ///< an unfinished file is removed unless the run was killed (then --resume reads it)
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::int64_t completed_blocks() const { return completed_blocks_; }
  std::int64_t resumed_frames() const { return resumed_frames_; }
  std::int64_t frames_written() const { return frames_written_; }
  /// [N, 3] float64 last frame of a resumed file, undefined for a fresh start.
  torch::Tensor last_frame() const { return last_frame_; }
  /// Collective: appends a block's frames [N, G, 3] (up to the total) and flushes.
  void append_block(const torch::Tensor& frames, std::int64_t block);
  /// Collective: closes and renames OUT.partial to OUT.
  void finish();

 private:
  void append(const torch::Tensor& positions);  // [N, 3] float64
  MPI_Comm comm_;
  int rank_ = 0;
  const System& system_;
  const SamplingSetup& setup_;
  std::string out_, partial_;
  parallel_io::AtomRange range_;
  std::unique_ptr<parallel_io::H5mdWriter> writer_;
  std::function<double(const torch::Tensor&)> energy_of_;
  std::int64_t completed_blocks_ = 0, resumed_frames_ = 0, frames_written_ = 0;
  torch::Tensor last_frame_;
  bool finished_ = false;
  bool resumed_ = false;
};

/// Index tensors of this rank's rows (DecomposedModel's local atoms) that both samplers use.
struct RankRows {
  torch::Tensor local_index;              ///< [n_local] global atom id of every local row
  torch::Tensor owned_rows;               ///< local rows of the owned atoms
  torch::Tensor owned_index;              ///< their global ids
  std::vector<std::int64_t> owned_atoms;  ///< the same ids as a vector (error messages)
};
RankRows rank_rows(const DecomposedModel& dm);

/// Collective: the whole system's frames [N, F, 3] on every rank from each rank's owned rows of `local`
/// ([n_local, F, 3], coordinates relative to `centre` [3], which is added back), rounded to the file's
/// float32 so that a resumed run continues from exactly what was written.
torch::Tensor gather_frames(const torch::Tensor& local, const torch::Tensor& centre, const RankRows& rows,
                            std::int64_t atoms, MPI_Comm comm);

/// Keyed standard normals [atoms.size(), frames, 3] keyed by (seed, block, step, frame f, global atom id), so
/// ghost rows draw their owners' values and any rank count gives the same numbers.
torch::Tensor keyed_noise(std::uint64_t seed, std::int64_t block, std::uint64_t step,
                          const std::vector<std::int64_t>& atoms, std::int64_t frames);

/// x0 clipping for coordinates: x0_hat = (x_t - sqrt(1 - abar) eps) / sqrt(abar) is pulled back to within
/// `radius` of the conditioning positions `anchor` (same shape as x_t), and eps is re-derived from the
/// clipped x0_hat so the sampler's update stays the plain DDPM/DDIM one. Per atom and frame.
void clip_predicted_positions(const torch::Tensor& x_t, const torch::Tensor& anchor, double alpha_bar,
                              double radius, torch::Tensor& eps);

/// Collective error path when eps_hat has non-finite values at a step: names the first atom (lowest
/// global id) and the count, on every rank. Never returns.
[[noreturn]] void throw_non_finite(MPI_Comm comm, const System& system, const torch::Tensor& eps,
                                   const torch::Tensor& owned_rows,
                                   const std::vector<std::int64_t>& owned_atoms, std::int64_t block,
                                   std::int64_t k, std::int64_t model_step);

}  // namespace hemeplm::sample
