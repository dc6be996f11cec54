#include "hemeplm/sample/decomposed_model.hpp"

#include <torch/nn/modules/container/modulelist.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "hemeplm/core/error.hpp"
#include "hemeplm/train/model_input.hpp"
#include "tensor_all_reduce.hpp"

namespace hemeplm::sample {
namespace {

const auto kIndex = torch::TensorOptions().dtype(torch::kInt64);

torch::Tensor index_tensor(const std::vector<std::int64_t>& v) {
  return torch::tensor(v, kIndex).reshape({static_cast<std::int64_t>(v.size())});
}

class Stopwatch {
 public:
  explicit Stopwatch(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  Stopwatch(const Stopwatch&) = delete;
  Stopwatch& operator=(const Stopwatch&) = delete;

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

class DecomposedModel::Impl {
 public:
  struct Batch {
    std::vector<int> fragments;  // indices into fragments_
    torch::Tensor rows;          // [n_b] local rows of the batch's atoms (fragment after fragment)
    torch::Tensor weights;       // [n_b] float64 blending weights
    torch::Tensor core_batch;    // positions in the batch of core atoms
    torch::Tensor core_rows;     // their local rows
    model::HemePLMInput input;   // the block's concatenated input
  };

  Impl(MPI_Comm comm, model::HemePLM model, std::shared_ptr<const GlobalInput> global,
       const decomposition::Plan& plan, std::optional<Box> box, const DecomposedModelOptions& options)
      : comm_(comm),
        model_(std::move(model)),
        global_(std::move(global)),
        box_(std::move(box)),
        options_(options) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (plan.ranks != size_)
      throw UsageError("the rank plan is for " + std::to_string(plan.ranks) + " ranks, this run has " +
                       std::to_string(size_));
    const auto n = global_->atom_count();
    if (plan.atom_count != n)
      throw UsageError("the rank plan is for " + std::to_string(plan.atom_count) + " atoms, the System has " +
                       std::to_string(n));
    std::vector<int> owner(static_cast<std::size_t>(n), -1);
    for (const auto& f : plan.fragments) {
      for (const int a : f.core) {
        if (a < 0 || a >= n || owner[static_cast<std::size_t>(a)] >= 0)
          throw UsageError("the rank plan puts atom " + std::to_string(a) + " in more than one core");
        owner[static_cast<std::size_t>(a)] = f.rank;
      }
    }
    for (std::int64_t a = 0; a < n; ++a)
      if (owner[static_cast<std::size_t>(a)] < 0)
        throw UsageError("the rank plan leaves atom " + std::to_string(a) + " out of every core");

    // This rank's fragments and the union of their atoms (the local rows).
    std::vector<std::int64_t> local;
    for (const auto& f : plan.fragments) {
      if (f.rank != rank_) continue;
      fragments_.push_back(restrict_to_fragment(*global_, f));
      local.insert(local.end(), fragments_.back().atoms.begin(), fragments_.back().atoms.end());
    }
    std::sort(local.begin(), local.end());
    local.erase(std::unique(local.begin(), local.end()), local.end());
    local_ = std::move(local);
    for (const auto& f : fragments_) fragment_rows_.push_back(local_rows(f));
    std::vector<int> local_owner;
    local_owner.reserve(local_.size());
    for (const auto a : local_) local_owner.push_back(owner[static_cast<std::size_t>(a)]);
    halo_ = std::make_unique<dist::HaloExchange>(comm_, local_, local_owner);
    owned_rows_ = halo_->owned_rows();
    const auto row_of = [&](std::int64_t g) {
      return static_cast<std::int64_t>(std::lower_bound(local_.begin(), local_.end(), g) - local_.begin());
    };

    // Batches of whole fragments up to max_batch_atoms; their rows, weights and core positions.
    std::vector<std::int64_t> token_rows(local_.size(), -1);  // local residue token of owned residue atoms
    std::vector<std::int64_t> local_residues;
    for (std::size_t i = 0; i < fragments_.size();) {
      Batch b;
      std::int64_t atoms = 0;
      std::vector<std::int64_t> rows, core_batch, core_rows;
      std::vector<double> weights;
      while (i < fragments_.size() &&
             (b.fragments.empty() ||
              atoms + static_cast<std::int64_t>(fragments_[i].atoms.size()) <= options_.max_batch_atoms)) {
        const auto& f = fragments_[i];
        const auto residue_base = static_cast<std::int64_t>(local_residues.size());
        const auto atom_residue = f.input.atom_residue.contiguous();
        for (std::size_t k = 0; k < f.atoms.size(); ++k) {
          const auto row = row_of(f.atoms[k]);
          if (f.core[k]) {
            core_batch.push_back(static_cast<std::int64_t>(rows.size()));
            core_rows.push_back(row);
            const auto r = atom_residue.data_ptr<std::int64_t>()[k];
            if (r >= 0) token_rows[static_cast<std::size_t>(row)] = residue_base + r;
          }
          rows.push_back(row);
          weights.push_back(f.weights[k]);
        }
        local_residues.insert(local_residues.end(), f.residues.begin(), f.residues.end());
        atoms += static_cast<std::int64_t>(f.atoms.size());
        b.fragments.push_back(static_cast<int>(i++));
      }
      b.rows = index_tensor(rows);
      b.weights = torch::tensor(weights, torch::kFloat64);
      b.core_batch = index_tensor(core_batch);
      b.core_rows = index_tensor(core_rows);
      batches_.push_back(std::move(b));
    }
    local_residue_count_ = static_cast<std::int64_t>(local_residues.size());
    std::vector<std::int64_t> residue_atoms, residue_of_atom;
    for (std::size_t row = 0; row < token_rows.size(); ++row) {
      if (token_rows[row] < 0) continue;
      residue_atoms.push_back(static_cast<std::int64_t>(row));
      residue_of_atom.push_back(token_rows[row]);
    }
    residue_atom_rows_ = index_tensor(residue_atoms);
    residue_atom_token_ = index_tensor(residue_of_atom);
    const auto domains = global_->input().residue_domain;
    local_residue_domain_ = local_residues.empty() ? torch::zeros({0}, kIndex)
                                                   : domains.index_select(0, index_tensor(local_residues));

    // Ligand atoms this rank owns: their index among all ligand atoms and their local row.
    const auto& ligand = global_->ligand_atoms();
    std::vector<std::int64_t> ligand_index, ligand_rows;
    for (std::size_t k = 0; k < ligand.size(); ++k) {
      if (owner[static_cast<std::size_t>(ligand[k])] != rank_) continue;
      ligand_index.push_back(static_cast<std::int64_t>(k));
      ligand_rows.push_back(row_of(ligand[k]));
    }
    owned_ligand_index_ = index_tensor(ligand_index);
    owned_ligand_rows_ = index_tensor(ligand_rows);
  }

  void begin_block(const torch::Tensor& known_frames, const torch::Tensor& known_atoms,
                   const torch::Tensor& x_given, const torch::Tensor& context) {
    Stopwatch watch(timings_.encode);
    const auto frames = x_given.size(1);
    has_context_ = context.defined();
    for (auto& batch : batches_) {
      std::vector<model::HemePLMInput> inputs;
      for (const int fi : batch.fragments) {
        const auto& f = fragments_[static_cast<std::size_t>(fi)];
        model::HemePLMInput in = f.input;
        const auto& rows = fragment_rows_[static_cast<std::size_t>(fi)];
        in.frame_times = torch::arange(frames, kIndex);
        in.known_frames = known_frames;
        in.known_atoms = known_atoms.defined() ? known_atoms.index_select(0, rows) : torch::Tensor();
        in.x_given = x_given.index_select(0, rows).to(options_.dtype);
        if (has_context_) set_fragment_context(in, rows, context);
        inputs.push_back(std::move(in));
      }
      batch.input = model::concatenate_inputs(inputs);
    }
    if (!has_context_) return;

    // Scalars of owned atoms and tokens of owned residues, batch by batch.
    const auto hidden = model_->config().visnet.hidden;
    scalars_ = torch::zeros({local_count(), hidden}, torch::TensorOptions().dtype(options_.dtype));
    std::vector<torch::Tensor> tokens, anchors;
    for (auto& batch : batches_) {
      const auto encoding = model_->encode(batch.input);
      scalars_.index_copy_(0, batch.core_rows, encoding.atom_scalars.index_select(0, batch.core_batch));
      if (encoding.residue_tokens.defined() && encoding.residue_tokens.size(0) > 0) {
        tokens.push_back(encoding.residue_tokens);
        anchors.push_back(encoding.anchors);
      }
    }
    const auto options = scalars_.options();
    residue_tokens_ = tokens.empty() ? torch::zeros({0, hidden}, options) : torch::cat(tokens);
    residue_anchors_ = anchors.empty() ? torch::zeros({0, 3}, options) : torch::cat(anchors);

    // Every ligand atom's scalars and position on every rank.
    const auto ligand_count = static_cast<std::int64_t>(global_->ligand_atoms().size());
    auto ligand = torch::zeros({ligand_count, hidden + 3}, torch::kFloat64);
    if (owned_ligand_rows_.numel() > 0) {
      ligand.index_copy_(0, owned_ligand_index_,
                         torch::cat({scalars_.index_select(0, owned_ligand_rows_).to(torch::kFloat64),
                                     context.index_select(0, owned_ligand_rows_)},
                                    1));
    }
    {
      Stopwatch reduce(timings_.all_reduce);
      all_reduce(ligand, MPI_SUM, comm_);
    }
    ligand_h_ = ligand.narrow(1, 0, hidden).to(options_.dtype);
    ligand_x_ = ligand.narrow(1, hidden, 3).to(options_.dtype);

    // Pooling over every rank's residues: MPI_MAX of the local maxima as the common shift, then sums.
    pooled_ = {};
    if (global_->residue_count() > 0) {
      auto pooling = model_->pooling_module();
      const auto graph = torch::zeros({local_residue_count_}, kIndex);
      auto shift =
          pooling->partial_sums(residue_tokens_, local_residue_domain_, graph, 1).max.to(torch::kFloat64);
      Stopwatch reduce(timings_.all_reduce);
      all_reduce(shift, MPI_MAX, comm_);
      // A domain no rank has keeps max = -inf; a finite stand-in leaves its sums zero.
      shift = shift.masked_fill(shift.isinf(), 0.0);
      auto partials =
          pooling->partial_sums(residue_tokens_, local_residue_domain_, graph, 1, shift.to(options_.dtype));
      auto sums =
          torch::cat({partials.sum_exp.reshape({-1}), partials.weighted.reshape({-1})}).to(torch::kFloat64);
      all_reduce(sums, MPI_SUM, comm_);
      sums = sums.to(options_.dtype);
      const auto count = partials.sum_exp.numel();
      partials.sum_exp = sums.narrow(0, 0, count).view_as(partials.sum_exp);
      partials.weighted = sums.narrow(0, count, sums.numel() - count).view_as(partials.weighted);
      partials.max = shift.to(options_.dtype);
      pooled_ = model_->pool(partials);
    }
  }

  /// steps: [1] one diffusion step for every frame, or [T] one per frame.
  torch::Tensor epsilon(const torch::Tensor& steps, const torch::Tensor& x_t) {
    torch::Tensor context;  // [n_local, denoiser hidden]
    if (has_context_) context = atom_context(steps);
    auto eps = torch::Tensor();
    {
      Stopwatch watch(timings_.denoise);
      for (auto& batch : batches_) {
        auto& in = batch.input;
        in.diffusion_step = steps.numel() == 1 && steps.dim() == 1
                                ? steps.expand({in.graph_count}).contiguous()
                                : steps.unsqueeze(0).expand({in.graph_count, steps.size(0)}).contiguous();
        const auto x = x_t.index_select(0, batch.rows).to(options_.dtype);
        const auto out = model_->denoise_with_context(
            in, context.defined() ? context.index_select(0, batch.rows) : torch::Tensor(), x);
        if (!eps.defined()) eps = torch::zeros({local_count(), out.size(1), 3}, torch::kFloat64);
        eps.index_add_(0, batch.rows, out.to(torch::kFloat64) * batch.weights.view({-1, 1, 1}));
      }
    }
    if (!eps.defined()) {  // a rank without fragments (more ranks than fragments is refused by the plan)
      eps = torch::zeros({local_count(), free_frame_count(x_t), 3}, torch::kFloat64);
    }
    Stopwatch watch(timings_.halo);
    eps = eps.contiguous();
    halo_->reverse_add(Span<double>(eps.data_ptr<double>(), static_cast<std::size_t>(eps.numel())),
                       static_cast<int>(eps.numel() / std::max<std::int64_t>(local_count(), 1)));
    return eps;
  }

  double energy(const torch::Tensor& positions) {
    Stopwatch watch(timings_.encode);
    auto sum = torch::zeros({1}, torch::kFloat64);
    for (const auto& batch : batches_) {
      std::vector<model::HemePLMInput> inputs;
      for (const int fi : batch.fragments) {
        const auto& f = fragments_[static_cast<std::size_t>(fi)];
        model::HemePLMInput in = f.input;
        set_fragment_context(in, fragment_rows_[static_cast<std::size_t>(fi)], positions);
        inputs.push_back(std::move(in));
      }
      const auto graph = model::concatenate_inputs(inputs).context_graph();
      const auto e = model_->energy_model()->atom_energies(graph);
      sum += e.index_select(0, batch.core_batch).sum().to(torch::kFloat64);
    }
    all_reduce(sum, MPI_SUM, comm_);
    const auto buffers = model_->energy_model()->named_buffers(false);
    return sum.item<double>() + buffers["mean"].item<double>();
  }

  void update_ghosts(torch::Tensor& values) {
    Stopwatch watch(timings_.halo);
    if (!values.is_contiguous() || values.scalar_type() != torch::kFloat64 || values.size(0) != local_count())
      throw UsageError("update_ghosts: values must be a contiguous float64 [local atoms, ...] tensor");
    if (local_count() == 0) return;
    halo_->forward(Span<double>(values.data_ptr<double>(), static_cast<std::size_t>(values.numel())),
                   static_cast<int>(values.numel() / local_count()));
  }

  std::int64_t local_count() const { return static_cast<std::int64_t>(local_.size()); }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  model::HemePLM model_;
  std::shared_ptr<const GlobalInput> global_;
  std::optional<Box> box_;
  DecomposedModelOptions options_;
  std::vector<FragmentInput> fragments_;
  std::vector<torch::Tensor> fragment_rows_;  // local rows of each fragment's atoms
  std::vector<Batch> batches_;
  std::vector<std::int64_t> local_;
  std::vector<int> owned_rows_;
  std::unique_ptr<dist::HaloExchange> halo_;
  std::int64_t local_residue_count_ = 0;
  torch::Tensor residue_atom_rows_, residue_atom_token_, local_residue_domain_;
  torch::Tensor owned_ligand_index_, owned_ligand_rows_;
  bool has_context_ = false;
  torch::Tensor scalars_, residue_tokens_, residue_anchors_, ligand_h_, ligand_x_;
  model::PooledTokens pooled_;
  DecomposedTimings timings_;

 private:
  torch::Tensor local_rows(const FragmentInput& f) const {
    std::vector<std::int64_t> rows;
    rows.reserve(f.atoms.size());
    for (const auto a : f.atoms)
      rows.push_back(
          static_cast<std::int64_t>(std::lower_bound(local_.begin(), local_.end(), a) - local_.begin()));
    return index_tensor(rows);
  }

  void set_fragment_context(model::HemePLMInput& in, const torch::Tensor& rows,
                            const torch::Tensor& positions) const {
    const auto p = tensor_vec3(positions.index_select(0, rows));
    train::set_context(in, Span<const Vec3>(p), box_, options_.cutoff);
  }

  std::int64_t free_frame_count(const torch::Tensor& x_t) const {
    const auto& known = batches_.empty() ? torch::Tensor() : batches_.front().input.known_frames;
    return known.defined() ? x_t.size(1) - known.to(torch::kBool).sum().item<std::int64_t>() : x_t.size(1);
  }

  /// Per-atom context of the owned atoms for this diffusion step, then sent to the ghosts.
  torch::Tensor atom_context(const torch::Tensor& steps) {
    Stopwatch watch(timings_.attention);
    const auto ligand_count = ligand_h_.size(0);
    auto ligand_h = ligand_h_;
    auto residue_h = residue_tokens_;
    if (model_->has_cross_attention() && global_->residue_count() > 0 && ligand_count > 0) {
      const auto known = batches_.empty() ? torch::Tensor() : batches_.front().input.known_frames;
      const auto c = steps.numel() == 1 && steps.dim() == 1
                         ? model_->time_conditioning(steps)
                         : model_->time_conditioning(steps.unsqueeze(0), known);
      const auto zeros = [](std::int64_t n) { return torch::zeros({n}, kIndex); };
      const model::TokenSet ligand{ligand_h_, ligand_x_, zeros(ligand_count), {}};
      const model::TokenSet residues{residue_tokens_, residue_anchors_, zeros(local_residue_count_), {}};
      // The pooled tokens are replicated: they join the keys on one rank only.
      const auto extra = rank_ == 0 ? model::pooled_key_tokens(pooled_, ligand_x_) : model::TokenSet{};
      std::tie(ligand_h, residue_h) = model_->attend(
          ligand, residues, extra, c, 1, [this](const model::AttentionPartials& p) { return complete(p); });
    }
    auto per_atom = scalars_;
    if (residue_atom_rows_.numel() > 0)
      per_atom = per_atom.index_add(0, residue_atom_rows_, residue_h.index_select(0, residue_atom_token_));
    if (owned_ligand_rows_.numel() > 0)
      per_atom = per_atom.index_copy(0, owned_ligand_rows_, ligand_h.index_select(0, owned_ligand_index_));
    auto context = model_->adapt_context(per_atom).contiguous();
    Stopwatch halo(timings_.halo);
    const auto width = static_cast<int>(context.size(1));
    if (context.scalar_type() == torch::kFloat64) {
      halo_->forward(Span<double>(context.data_ptr<double>(), static_cast<std::size_t>(context.numel())),
                     width);
    } else {
      context = context.to(torch::kFloat32).contiguous();
      halo_->forward(Span<float>(context.data_ptr<float>(), static_cast<std::size_t>(context.numel())),
                     width);
    }
    return context.to(options_.dtype);
  }

  /// Ligand -> residue attention partials of every rank: common max (MPI_MAX), then sums (MPI_SUM).
  model::AttentionPartials complete(const model::AttentionPartials& local) {
    Stopwatch watch(timings_.all_reduce);
    auto max = local.max.to(torch::kFloat64).clone();  // .to() of a float64 tensor would alias local.max
    all_reduce(max, MPI_MAX, comm_);
    const auto common = max.masked_fill(max.isinf(), 0.0).to(local.max.scalar_type());
    const auto scaled = model::rescale_partials(local, common);
    auto sums = torch::cat({scaled.sum_exp.reshape({-1}), scaled.weighted.reshape({-1})}).to(torch::kFloat64);
    all_reduce(sums, MPI_SUM, comm_);
    sums = sums.to(local.sum_exp.scalar_type());
    const auto count = local.sum_exp.numel();
    return {common, sums.narrow(0, 0, count).view_as(local.sum_exp),
            sums.narrow(0, count, sums.numel() - count).view_as(local.weighted)};
  }
};

DecomposedModel::DecomposedModel(MPI_Comm comm, model::HemePLM model,
                                 std::shared_ptr<const GlobalInput> global, const decomposition::Plan& plan,
                                 std::optional<Box> box, const DecomposedModelOptions& options)
    : impl_(
          std::make_unique<Impl>(comm, std::move(model), std::move(global), plan, std::move(box), options)) {}
DecomposedModel::~DecomposedModel() = default;
const std::vector<std::int64_t>& DecomposedModel::local_atoms() const {
  return impl_->local_;
}
const std::vector<int>& DecomposedModel::owned_rows() const {
  return impl_->owned_rows_;
}
std::int64_t DecomposedModel::local_count() const {
  return impl_->local_count();
}
int DecomposedModel::fragment_count() const {
  return static_cast<int>(impl_->fragments_.size());
}
int DecomposedModel::batch_count() const {
  return static_cast<int>(impl_->batches_.size());
}
const dist::HaloExchange& DecomposedModel::halo() const {
  return *impl_->halo_;
}
void DecomposedModel::begin_block(const torch::Tensor& known_frames, const torch::Tensor& known_atoms,
                                  const torch::Tensor& x_given, const torch::Tensor& context) {
  impl_->begin_block(known_frames, known_atoms, x_given, context);
}
torch::Tensor DecomposedModel::epsilon(std::int64_t model_step, const torch::Tensor& x_t) {
  return impl_->epsilon(torch::full({1}, model_step, kIndex), x_t);
}

torch::Tensor DecomposedModel::epsilon(const torch::Tensor& frame_steps, const torch::Tensor& x_t) {
  if (!frame_steps.defined() || frame_steps.dim() != 1 || frame_steps.size(0) != x_t.size(1))
    throw UsageError("decomposed model: per-frame steps must hold one step per frame (" +
                     std::to_string(x_t.size(1)) + ")");
  return impl_->epsilon(frame_steps.to(torch::kInt64), x_t);
}
void DecomposedModel::update_ghosts(torch::Tensor& values) {
  impl_->update_ghosts(values);
}
double DecomposedModel::energy(const torch::Tensor& positions) {
  return impl_->energy(positions);
}
const DecomposedTimings& DecomposedModel::timings() const {
  return impl_->timings_;
}

}  // namespace hemeplm::sample
