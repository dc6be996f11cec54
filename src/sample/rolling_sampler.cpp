// The rolling sampler's loop (see rolling_sampler.hpp and docs/sampling.md, "Rolling sampler").
#include "rolling_sampler.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/rolling.hpp"
#include "hemeplm/diffusion/sampling.hpp"
#include "tensor_all_reduce.hpp"

namespace hemeplm::sample {
namespace {

using Clock = std::chrono::steady_clock;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kIndex = torch::TensorOptions().dtype(torch::kInt64);
constexpr std::uint64_t kEnteringNoise = 0xFFFFFFFEull;  // the "level" key of a frame's starting noise

}  // namespace

RollingCounts sample_rolling(MPI_Comm comm, const System& system, const SampleOptions& options,
                             const SamplingSetup& setup, DecomposedModel& dm, const RankRows& rows,
                             OutputFile& output, const torch::Tensor& start,
                             const std::function<void(const std::string&)>& progress) {
  const auto n = static_cast<std::int64_t>(system.atom_count());
  const auto& local = dm.local_atoms();
  const auto local_count = static_cast<std::int64_t>(local.size());
  const auto& owned_rows = rows.owned_rows;
  const auto& schedule = *setup.sampling;
  const auto frames = setup.block_frames;  // T: the known frame and W free ones
  const auto w = frames - 1;
  const double entering_scale = schedule.initial_coefficients().second;

  // Per free frame: subtract the mean over all atoms (owned rows, all-reduced), so every frame's centroid
  // stays where the known frame's is, as per-frame noise training drew it. One all-reduce for all tensors.
  const auto project_frames = [&](std::vector<torch::Tensor*> tensors) {
    std::vector<torch::Tensor> sums;
    for (auto* t : tensors) sums.push_back(t->index_select(0, owned_rows).sum(0).reshape({-1}));
    auto all = torch::cat(sums).contiguous();
    all_reduce(all, MPI_SUM, comm);
    if (!torch::isfinite(all).all().item<bool>()) return false;
    std::int64_t offset = 0;
    for (auto* t : tensors) {
      const auto count = t->size(1) * 3;
      *t -= (all.narrow(0, offset, count) / static_cast<double>(n)).view({1, t->size(1), 3});
      offset += count;
    }
    return true;
  };
  // Output frame index g enters the window as pure (centroid-free) noise at the noisiest level.
  const auto entering = [&](std::int64_t g) {
    auto z = keyed_noise(options.seed, g, kEnteringNoise, local, 1);
    project_frames({&z});
    return (entering_scale * z).select(1, 0);
  };

  // Centred on the start frame; every generated frame keeps that centroid.
  auto com = start.index_select(0, rows.owned_index).sum(0).contiguous();
  all_reduce(com, MPI_SUM, comm);
  com /= static_cast<double>(n);
  auto known = start.index_select(0, rows.local_index) - com;  // [n_local, 3]
  std::int64_t next = output.frames_written();                 // output index of the frame at position 1
  auto x = torch::empty({local_count, frames, 3}, kF64);
  x.select(1, 0).copy_(known);
  for (std::int64_t j = 1; j <= w; ++j) x.select(1, j).copy_(entering(next + j - 1));
  dm.update_ghosts(x);
  auto known_frames = torch::zeros({frames}, torch::kBool);
  known_frames[0] = true;

  diffusion::RollingWindow window(w, schedule.size() / w);
  RollingCounts counts;
  const auto t0 = Clock::now();
  const auto first = output.frames_written();
  const auto report_every = std::max<std::int64_t>(w, (setup.total_frames - first) / 20);
  while (output.frames_written() < setup.total_frames) {
    // The known frame changes every call: its context is encoded again (ViSNet, pooling).
    const auto x_given = known.unsqueeze(1).expand({local_count, frames, 3}).contiguous();
    dm.begin_block(known_frames, torch::Tensor(), x_given, known.contiguous());
    auto steps = torch::zeros({frames}, kIndex);
    for (std::int64_t j = 1; j <= w; ++j) steps[j] = schedule.model_step(window.level(j));
    auto eps = dm.epsilon(steps, x);  // [n_local, W, 3]
    auto z = torch::zeros({local_count, w, 3}, kF64);
    for (std::int64_t j = 1; j <= w; ++j) {
      const auto k = window.level(j);
      if (window.advances(j) && schedule.noise_scale(k) > 0)
        z.select(1, j - 1).copy_(
            keyed_noise(options.seed, next + j - 1, static_cast<std::uint64_t>(k), local, 1).select(1, 0));
    }
    if (!project_frames({&eps, &z}))
      throw_non_finite(comm, system, eps, owned_rows, rows.owned_atoms, next, window.level(1),
                       schedule.model_step(window.level(1)));
    if (options.clip_x0 > 0) {
      for (std::int64_t j = 1; j <= w; ++j) {
        auto e = eps.select(1, j - 1).clone();
        clip_predicted_positions(x.select(1, j), known, schedule.alpha_bar(window.level(j)), options.clip_x0,
                                 e);
        eps.select(1, j - 1).copy_(e);
      }
      project_frames({&eps});  // clipping moved each frame's centroid of eps_hat a little
    }
    for (std::int64_t j = 1; j <= w; ++j) {
      if (!window.advances(j)) continue;
      const auto k = window.level(j);
      const auto xj = x.select(1, j).contiguous();
      const auto ej = eps.select(1, j - 1).contiguous();
      const auto zj = z.select(1, j - 1).contiguous();
      auto out = torch::empty_like(xj);
      const auto count = static_cast<std::size_t>(xj.numel());
      schedule.step(k, Span<const double>(xj.data_ptr<double>(), count),
                    Span<const double>(ej.data_ptr<double>(), count),
                    schedule.noise_scale(k) > 0 ? Span<const double>(zj.data_ptr<double>(), count)
                                                : Span<const double>(),
                    Span<double>(out.data_ptr<double>(), count));
      x.select(1, j).copy_(out);
    }
    ++counts.calls;
    if (!window.advance()) {
      dm.update_ghosts(x);
      continue;
    }

    // Position 1 is clean: write it (the gather reads owned rows only) and slide the window by one frame;
    // the ghost rows are brought up to date once, after the slide.
    const auto gathered = gather_frames(x.narrow(1, 1, 1), com, rows, n, comm);
    output.append_block(gathered, next);
    ++counts.frames;
    known = gathered.select(1, 0).index_select(0, rows.local_index) - com;
    x.narrow(1, 1, w - 1).copy_(x.narrow(1, 2, w - 1).clone());
    x.select(1, 0).copy_(known);
    ++next;
    x.select(1, w).copy_(entering(next + w - 1));
    dm.update_ghosts(x);
    window.shift();
    const auto done = output.frames_written() - first;
    if (progress && (done % report_every == 0 || output.frames_written() == setup.total_frames)) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      const double per_frame = elapsed / static_cast<double>(done);
      std::ostringstream line;
      line << "frame " << output.frames_written() - 1 << "/" << setup.total_frames - 1 << "  calls "
           << counts.calls << "  " << std::fixed << std::setprecision(3) << per_frame << " s/frame  ETA "
           << std::setprecision(0)
           << per_frame * static_cast<double>(setup.total_frames - output.frames_written()) << " s";
      progress(line.str());
    }
  }
  return counts;
}

}  // namespace hemeplm::sample
