// The decomposed model against the whole-system model, float64: with buffers covering the receptive
// field the stitched eps_hat equals the whole-system one (rel <= 1e-9) on 1, 2 or 3 ranks; with
// shrinking buffers the error grows (the table docs/sampling.md reports).
#include "hemeplm/sample/decomposed_model.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "hemeplm/decomposition/rank_plan.hpp"
#include "hemeplm/train/model_input.hpp"
#include "sample_fixtures.hpp"

namespace hemeplm::sample {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
constexpr std::int64_t kFrames = 3;

struct Comparison {
  double relative = 0;  // max |stitched - whole| / max |whole| over all atoms
  int fragments = 0;
  double largest_fragment_share = 0;  // atoms of the largest fragment / all atoms
};

/// eps_hat of the whole system and of the decomposition (plan over this run's ranks), for the
/// forecast masks (frame 0 known) and optionally ligand inpainting.
Comparison compare(double buffer, double blend, bool inpaint_ligand,
                   torch::ScalarType dtype = torch::kFloat64) {
  torch::NoGradGuard no_grad;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const System system = test::example_complex();
  const auto config = test::short_range_config();
  auto model = test::random_model(config, dtype, 7);
  const auto n = static_cast<std::int64_t>(system.atom_count());

  train::ModelInputOptions io;
  io.cutoff = config.visnet.cutoff;
  io.domains = static_cast<int>(config.pooling_domains);
  io.dtype = dtype;
  io.with_context = false;
  auto global = std::make_shared<GlobalInput>(train::make_model_input(system, {}, io));

  // Frames: the structure plus small keyed displacements; x_t: noisier; same on every rank.
  torch::manual_seed(3);
  auto positions = torch::empty({n, 3}, kF64);
  for (std::int64_t a = 0; a < n; ++a)
    for (int k = 0; k < 3; ++k) positions[a][k] = system.positions[static_cast<std::size_t>(a)][k];
  const auto x_given =
      positions.unsqueeze(1).repeat({1, kFrames, 1}) + 0.3 * torch::randn({n, kFrames, 3}, kF64);
  const auto x_t = x_given + 1.5 * torch::randn({n, kFrames, 3}, kF64);
  const auto known_frames = torch::tensor({true, false, false});
  torch::Tensor known_atoms;
  if (inpaint_ligand)
    known_atoms = global->input().ligand_atom.logical_not().unsqueeze(1).repeat({1, kFrames});
  const std::int64_t step = 37;

  auto whole_in = global->input();
  train::set_context(whole_in, system.positions, system.box, config.visnet.cutoff);
  whole_in.frame_times = torch::arange(kFrames);
  whole_in.known_frames = known_frames;
  whole_in.known_atoms = known_atoms;
  whole_in.x_given = x_given.to(dtype);
  whole_in.diffusion_step = torch::tensor({step});
  const auto whole = model->forward(whole_in, x_t.to(dtype)).to(torch::kFloat64);

  decomposition::PlanOptions p;
  p.ranks = size;
  p.denoise.core_residues = 2;
  p.denoise.buffer = buffer;
  p.denoise.blend = blend;
  const auto plan = decomposition::make_plan(system, p);
  DecomposedModelOptions o;
  o.dtype = dtype;
  o.cutoff = config.visnet.cutoff;
  o.max_batch_atoms = 400;  // several model calls per rank
  DecomposedModel dm(MPI_COMM_WORLD, model, global, plan, system.box, o);
  std::vector<std::int64_t> local(dm.local_atoms().begin(), dm.local_atoms().end());
  const auto rows = torch::tensor(local);
  dm.begin_block(known_frames, known_atoms.defined() ? known_atoms.index_select(0, rows) : torch::Tensor(),
                 x_given.index_select(0, rows).contiguous(), positions.index_select(0, rows).contiguous());
  const auto eps = dm.epsilon(step, x_t.index_select(0, rows).contiguous());

  std::vector<std::int64_t> owned_rows(dm.owned_rows().begin(), dm.owned_rows().end()), owned_atoms;
  for (const auto r : owned_rows) owned_atoms.push_back(local[static_cast<std::size_t>(r)]);
  const auto mine = eps.index_select(0, torch::tensor(owned_rows));
  const auto reference = whole.index_select(0, torch::tensor(owned_atoms));
  Comparison c;
  const double diff = test::all_max((mine - reference).abs().max().item<double>(), MPI_COMM_WORLD);
  const double scale = whole.abs().max().item<double>();
  c.relative = diff / scale;
  c.fragments = static_cast<int>(plan.fragments.size());
  std::size_t largest = 0;
  for (const auto& f : plan.fragments) largest = std::max(largest, f.core.size() + f.buffer.size());
  c.largest_fragment_share = static_cast<double>(largest) / static_cast<double>(n);
  return c;
}

TEST(DecomposedModel, StitchedEqualsWholeWhenBuffersCoverTheReceptiveField) {
  const auto hard = compare(10.0, 0.0, false);
  EXPECT_LT(hard.relative, 1e-9);
  EXPECT_GT(hard.fragments, 3);
  EXPECT_LT(hard.largest_fragment_share, 0.7) << "fragments must not be the whole system: nothing tested";
  const auto blended = compare(12.0, 2.0, false);
  EXPECT_LT(blended.relative, 1e-9);
}

TEST(DecomposedModel, Float32StitchingIsExactToRounding) {
  const auto c = compare(10.0, 0.0, false, torch::kFloat32);
  std::printf("[ float32 stitched-vs-whole rel error %.3e ]\n", c.relative);
  EXPECT_LT(c.relative, 1e-5);
}

TEST(DecomposedModel, StitchedEqualsWholeForLigandInpainting) {
  EXPECT_LT(compare(10.0, 0.0, true).relative, 1e-9);
}

TEST(DecomposedModel, ErrorGrowsAsTheBufferShrinks) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<std::pair<double, Comparison>> table;
  for (const double buffer : {14.0, 10.0, 7.0, 5.0, 3.0, 1.0})
    table.emplace_back(buffer, compare(buffer, 0.0, false));
  if (rank == 0) {
    std::printf("[ buffer (Å) | fragments | largest fragment / system | stitched-vs-whole rel error ]\n");
    for (const auto& [buffer, c] : table)
      std::printf("[ %5.1f | %3d | %.2f | %.3e ]\n", buffer, c.fragments, c.largest_fragment_share,
                  c.relative);
  }
  EXPECT_GT(table.back().second.relative, 1e-4) << "a 1 Å buffer cannot be exact: the test would be vacuous";
  EXPECT_LT(table.front().second.relative, 1e-9);
}

}  // namespace
}  // namespace hemeplm::sample
