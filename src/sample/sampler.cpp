#include "hemeplm/sample/sampler.hpp"

#include <torch/torch.h>
#include <torch/version.h>  // TORCH_VERSION_MAJOR: the warning-handler API changed in 2.0

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"
#include "hemeplm/diffusion/sampling.hpp"
#include "hemeplm/diffusion/schedule.hpp"
#include "hemeplm/dist/device.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/sample/decomposed_model.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "rolling_sampler.hpp"
#include "sampling_setup.hpp"
#include "tensor_all_reduce.hpp"

namespace hemeplm::sample {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kIndex = torch::TensorOptions().dtype(torch::kInt64);
const std::vector<std::int64_t> kAtomsFrames = {0, 1};  // reduce over atoms and frames
constexpr std::uint64_t kInitialNoise = 0xFFFFFFFFull;  // the "step" key of the starting noise

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Torch's own warnings (e.g. "scatter_reduce() is in beta") go to the progress log instead of stderr,
/// which carries only the one-line error of a failed run.
class LogTorchWarnings final : public c10::WarningHandler {
 public:
  explicit LogTorchWarnings(std::function<void(const std::string&)> say) : say_(std::move(say)) {}
#if TORCH_VERSION_MAJOR >= 2
  using Guard = c10::WarningUtils::WarningHandlerGuard;
  void process(const c10::Warning& warning) override {
    say_("warning: torch: " + warning.msg());
  }
#else
  using Guard = c10::Warning::WarningHandlerGuard;
  void process(const c10::SourceLocation&, const std::string& msg, const bool) override {
    say_("warning: torch: " + msg);
  }
#endif

 private:
  std::function<void(const std::string&)> say_;
};

double peak_rss_gb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0 / 1024.0;
  return 0;
}

}  // namespace

SampleReport run_sampling(MPI_Comm comm, const System& system, const std::optional<System>& end,
                          const SampleOptions& options, std::ostream* log) {
  torch::NoGradGuard no_grad;
  const auto setup_start = Clock::now();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const bool root = rank == 0;
  auto say = [&](const std::string& line) {
    if (root && log && !options.quiet) *log << line << std::endl;
  };
  LogTorchWarnings torch_warnings(say);
  const LogTorchWarnings::Guard torch_warnings_guard(&torch_warnings);

  // Reuse freed tensor memory instead of unmapping it: a step allocates the same large blocks again
  // (measured on 1S63 with tiny: 17 % faster per block, kernel time 57 s -> 13 s).
  model::keep_freed_tensor_memory();
  SamplingSetup setup = prepare_sampling(comm, system, end, options, say);
  const auto& plan = setup.plan;
  const auto n = static_cast<std::int64_t>(system.atom_count());
  const auto T = setup.block_frames;
  const auto mode = setup.mode;
  DecomposedModelOptions dm_options;
  dm_options.dtype = options.float64 ? torch::kFloat64 : torch::kFloat32;
  dm_options.max_batch_atoms = options.max_batch_atoms;
  dm_options.cutoff = setup.model->config().visnet.cutoff;
  DecomposedModel dm(comm, setup.model, setup.global, plan, system.box, dm_options);
  const auto& local = dm.local_atoms();
  const auto rows = rank_rows(dm);
  const auto& owned_rows = rows.owned_rows;
  const auto& local_index = rows.local_index;
  const auto local_count = static_cast<std::int64_t>(local.size());

  // Masks of the block (same for every block).
  torch::Tensor known_frames, known_atoms;
  if (mode != Mode::kUnconditional) {
    known_frames = torch::zeros({T}, torch::kBool);
    known_frames[0] = true;
    if (mode == Mode::kTps) known_frames[T - 1] = true;
  }
  if (mode == Mode::kInpaint) {
    std::vector<char> generated(static_cast<std::size_t>(n), 0);
    for (const int a : setup.inpaint) generated[static_cast<std::size_t>(a)] = 1;
    known_atoms = torch::ones({local_count, T}, torch::kBool);
    for (std::int64_t r = 0; r < local_count; ++r)
      if (generated[static_cast<std::size_t>(local[static_cast<std::size_t>(r)])])
        known_atoms[r].fill_(false);
  }
  auto free_mask = torch::ones({local_count, T}, torch::kBool);
  if (known_frames.defined()) free_mask &= known_frames.logical_not().unsqueeze(0);
  if (known_atoms.defined()) free_mask &= known_atoms.logical_not();
  const auto free_frames =
      known_frames.defined() ? known_frames.logical_not().nonzero().squeeze(1) : torch::arange(T, kIndex);
  const auto free3 = free_mask.unsqueeze(-1).to(torch::kFloat64);  // [n_local, T, 1]
  const auto owned_free3 = free3.index_select(0, owned_rows);
  // Frames of a block that go to the file.
  std::vector<std::int64_t> out_frames;
  for (std::int64_t f = mode == Mode::kUnconditional ? 0 : 1; f < T; ++f) out_frames.push_back(f);

  // Output (frame 0 plus whatever a resumed file already holds).
  std::function<double(const torch::Tensor&)> energy_of;
  if (options.energies) {
    energy_of = [&](const torch::Tensor& positions) {
      return dm.energy(positions.index_select(0, local_index));
    };
  }
  OutputFile output(comm, system, options, setup, say, energy_of);
  torch::Tensor current = output.last_frame();  // [N, 3] float64: where the next block starts
  if (!current.defined()) current = vec3_tensor(system.positions);
  const auto start_block = output.completed_blocks();
  SampleReport report;
  report.resumed_frames = output.resumed_frames();
  report.setup_seconds = seconds_since(setup_start);
  report.fragments = static_cast<int>(plan.fragments.size());
  report.ranks = size;
  report.dt_ps = setup.dt_ps;

  const auto& schedule = *setup.sampling;
  const auto [init_mean, init_noise] = schedule.initial_coefficients();
  const auto t0 = Clock::now();
  std::int64_t denoise_steps = 0;
  if (options.rolling)
    denoise_steps = sample_rolling(comm, system, options, setup, dm, rows, output, current, say).calls;
  for (std::int64_t block = start_block; !options.rolling && block < setup.blocks; ++block) {
    // Given coordinates of the block, centred on all given entries (training centred x0 the same way).
    auto x_given = torch::empty({local_count, T, 3}, kF64);
    const auto start = current.index_select(0, local_index);
    if (mode == Mode::kTps) {
      const auto stop = setup.end_positions.index_select(0, local_index);
      for (std::int64_t f = 0; f < T; ++f)
        x_given.select(1, f).copy_(start +
                                   (stop - start) * (static_cast<double>(f) / static_cast<double>(T - 1)));
    } else {
      x_given.copy_(start.unsqueeze(1).expand({local_count, T, 3}));
    }
    auto sums = torch::cat({(x_given.index_select(0, owned_rows)).sum(kAtomsFrames),
                            (x_given.index_select(0, owned_rows) * owned_free3).sum(kAtomsFrames),
                            owned_free3.sum().reshape({1})})
                    .contiguous();
    all_reduce(sums, MPI_SUM, comm);
    const auto com = sums.narrow(0, 0, 3) / static_cast<double>(n * T);
    const auto free_count = sums[6].item<double>();
    const auto free_mean = sums.narrow(0, 3, 3) / std::max(free_count, 1.0) - com;
    x_given -= com;
    dm.begin_block(known_frames, known_atoms, x_given,
                   mode == Mode::kUnconditional ? torch::Tensor() : x_given.select(1, 0).contiguous());

    // x_T: the free_mask entries at sqrt(abar) times their given centroid plus CoM-free_mask noise.
    const auto project = [&](torch::Tensor& eps_like, torch::Tensor& z_like) {
      auto s =
          torch::cat({(eps_like.index_select(0, owned_rows) * owned_free3).sum(kAtomsFrames),
                      z_like.defined() ? (z_like.index_select(0, owned_rows) * owned_free3).sum(kAtomsFrames)
                                       : torch::zeros({3}, kF64)})
              .contiguous();
      all_reduce(s, MPI_SUM, comm);
      if (!torch::isfinite(s).all().item<bool>()) return false;
      eps_like -= free3 * (s.narrow(0, 0, 3) / free_count);
      if (z_like.defined()) z_like -= free3 * (s.narrow(0, 3, 3) / free_count);
      return true;
    };
    auto z = keyed_noise(options.seed, block, kInitialNoise, local, T);
    torch::Tensor none;
    project(z, none);
    auto x =
        torch::where(free_mask.unsqueeze(-1), init_mean * free_mean + init_noise * z, x_given).contiguous();
    dm.update_ghosts(x);

    for (std::int64_t k = schedule.size() - 1; k >= 0; --k) {
      const auto eps_free = dm.epsilon(schedule.model_step(k), x);
      auto eps = torch::zeros({local_count, T, 3}, kF64).index_copy(1, free_frames, eps_free);
      torch::Tensor noise;
      if (schedule.noise_scale(k) > 0)
        noise = keyed_noise(options.seed, block, static_cast<std::uint64_t>(k), local, T);
      if (!project(eps, noise))
        throw_non_finite(comm, system, eps, owned_rows, rows.owned_atoms, block, k, schedule.model_step(k));
      if (options.clip_x0 > 0) {
        clip_predicted_positions(x, x_given, schedule.alpha_bar(k), options.clip_x0, eps);
        project(eps, none);  // clipping moved the free entries' centroid of eps_hat a little
      }
      auto stepped = torch::empty_like(x);
      const auto count = static_cast<std::size_t>(x.numel());
      schedule.step(
          k, Span<const double>(x.data_ptr<double>(), count),
          Span<const double>(eps.contiguous().data_ptr<double>(), count),
          noise.defined() ? Span<const double>(noise.data_ptr<double>(), count) : Span<const double>(),
          Span<double>(stepped.data_ptr<double>(), count));
      x = torch::where(free_mask.unsqueeze(-1), stepped, x_given).contiguous();
      dm.update_ghosts(x);
      ++denoise_steps;
    }

    // The block's output frames, whole system on every rank.
    const auto gathered =
        gather_frames(x.index_select(1, torch::tensor(out_frames, kIndex)), com, rows, n, comm);
    output.append_block(gathered, block);
    current = gathered.select(1, gathered.size(1) - 1).contiguous();
    if (root && log && !options.quiet) {
      const double elapsed = seconds_since(t0);
      const double per_block = elapsed / static_cast<double>(block - start_block + 1);
      *log << "block " << block + 1 << "/" << setup.blocks << "  frames " << output.frames_written() << "  "
           << std::fixed << std::setprecision(2) << per_block << " s/block  ETA " << std::setprecision(0)
           << per_block * static_cast<double>(setup.blocks - block - 1) << " s" << std::defaultfloat
           << std::endl;
    }
  }
  output.finish();

  report.seconds = seconds_since(t0);
  report.blocks = setup.blocks - start_block;
  report.frames_written = output.frames_written();
  const auto generated = static_cast<double>(report.frames_written - report.resumed_frames);
  if (report.seconds > 0 && generated > 0) {
    report.frames_per_second = generated / report.seconds;
    report.ns_per_day = report.frames_per_second * setup.dt_ps * 1e-3 * 86400.0;
  }
  if (denoise_steps > 0) report.seconds_per_step = report.seconds / static_cast<double>(denoise_steps);
  const auto& t = dm.timings();
  if (report.seconds > 0) {
    report.model_share = (t.encode + t.attention + t.denoise) / report.seconds;
    report.halo_share = t.halo / report.seconds;
    report.all_reduce_share = t.all_reduce / report.seconds;
  }
  report.peak_rss_gb = peak_rss_gb();
  return report;
}

}  // namespace hemeplm::sample
