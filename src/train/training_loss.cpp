// The training loss of a batch (see training_loss.hpp).
#include "training_loss.hpp"

#include <torch/torch.h>

#include <map>
#include <utility>

#include "hemeplm/diffusion/keyed_random.hpp"
#include "hemeplm/diffusion/loss.hpp"
#include "hemeplm/diffusion/rolling.hpp"

namespace hemeplm::train {
namespace {

torch::Tensor moved(const torch::Tensor& t, const torch::Device& device) {
  return t.defined() ? t.to(device) : t;
}

void move_to(model::HemePLMInput& in, const torch::Device& device) {
  for (torch::Tensor* t :
       {&in.atomic_numbers, &in.atom_features, &in.atom_graph,        &in.diffusion_step, &in.bond_src,
        &in.bond_dst,       &in.bond_type,     &in.context_positions, &in.radius_src,     &in.radius_dst,
        &in.radius_shift,   &in.atom_residue,  &in.residue_type,      &in.residue_anchor, &in.residue_domain,
        &in.ligand_atom,    &in.frame_times,   &in.known_frames,      &in.known_atoms,    &in.x_given}) {
    *t = moved(*t, device);
  }
}

void drop_context(model::HemePLMInput& in) {
  in.context_positions = torch::Tensor();
  in.radius_src = torch::Tensor();
  in.radius_dst = torch::Tensor();
  in.radius_shift = torch::Tensor();
}

/// What one example draws from its key: conditioning, diffusion step and noise.
struct Draw {
  diffusion::Conditioning conditioning;
  torch::Tensor steps;  ///< [1] diffusion step, or [1, T] per-frame steps
  torch::Tensor noise;  ///< [N, T, 3]
  torch::Tensor free;   ///< [N, T] bool
};

Draw draw_for(const TrainingExample& example, const ExampleKey& key, const LossSettings& s) {
  auto generator = diffusion::keyed_generator({s.seed, key.stream, key.index});
  const auto n = example.x0.size(0), frames = example.x0.size(1);
  Draw d;
  const auto ligand = example.input.ligand_atom.defined()
                          ? example.input.ligand_atom.cpu()
                          : torch::zeros({n}, torch::TensorOptions().dtype(torch::kBool));
  const auto first_frame = example.x0.select(1, 0).cpu().to(torch::kFloat64);
  d.conditioning = s.stage == 1
                       ? diffusion::make_conditioning(diffusion::ConditioningMode::kUnconditional, n, frames,
                                                      ligand, first_frame, generator)
                       : diffusion::sample_conditioning(s.mix, n, frames, ligand, first_frame, generator);
  d.steps = torch::randint(s.schedule->steps(), {1}, generator, torch::TensorOptions().dtype(torch::kInt64));
  // Only drawn when enabled, so that runs without per-frame noise draw exactly what they always did.
  if (s.stage == 2 && s.per_frame_noise > 0 &&
      torch::rand({1}, generator, torch::TensorOptions().dtype(torch::kFloat64)).item<double>() <
          s.per_frame_noise)
    d.steps = diffusion::draw_frame_steps(d.conditioning.known_frames, frames, s.schedule->steps(), generator)
                  .unsqueeze(0);
  // Drawn in float64 so float32 and float64 runs see the same noise.
  d.noise = torch::randn({n, frames, 3}, generator, torch::TensorOptions().dtype(torch::kFloat64));
  d.free = d.conditioning.free_entries(n, frames);
  return d;
}

/// The examples' inputs for a clean-frame evaluation (energies, properties): no masks, step 0.
model::HemePLMInput clean_input(const TrainingExample& example) {
  model::HemePLMInput in = example.input;
  in.known_frames = torch::Tensor(), in.known_atoms = torch::Tensor(), in.x_given = torch::Tensor();
  in.diffusion_step = torch::zeros({1}, torch::kInt64);
  return in;
}

/// Property terms of the examples with property labels: sum over terms of weight * sum over molecules of
/// (standardised prediction - standardised label)^2; undefined when no example has labels.
torch::Tensor property_loss(model::HemePLM& model, const std::vector<TrainingExample>& examples,
                            const LossSettings& s, LossSums& sums) {
  const auto terms = s.properties.size();
  sums.property_squared.assign(terms, 0.0);
  sums.property_abs.assign(terms, 0.0);
  std::vector<model::HemePLMInput> labelled;
  std::vector<torch::Tensor> labels;
  for (const auto& example : examples) {
    if (!example.properties.defined()) continue;
    labelled.push_back(clean_input(example));
    labels.push_back(example.properties.to(torch::kFloat64).reshape({1, -1}));
  }
  if (labelled.empty()) return {};
  auto in = model::concatenate_inputs(labelled);
  move_to(in, s.device);
  const auto predicted = model->properties_standardised(in.context_graph());  // [B, P_model]
  const auto all_labels = torch::cat(labels).to(s.device);                    // [B, P_data]
  const auto statistics = model->property_standardization();
  torch::Tensor total;
  for (std::size_t t = 0; t < terms; ++t) {
    const auto& term = s.properties[t];
    const auto [offset, scale] = statistics.at(static_cast<std::size_t>(term.head));
    const auto prediction = predicted.select(1, term.head);
    const auto label = ((all_labels.select(1, term.label) - offset) / scale).to(prediction.scalar_type());
    const auto squared = (prediction - label).pow(2).sum();
    total = total.defined() ? total + term.weight * squared : term.weight * squared;
    sums.property_squared[t] = squared.item<double>();
    sums.property_abs[t] =
        ((prediction.detach().to(torch::kFloat64) - label.to(torch::kFloat64)).abs() * scale)
            .sum()
            .item<double>();
  }
  sums.property_labelled = static_cast<double>(labelled.size());
  return total;
}

}  // namespace

LossSums batch_loss(model::HemePLM& model, std::vector<TrainingExample>& examples,
                    const std::vector<ExampleKey>& keys, const LossSettings& s, bool backward, double scale) {
  LossSums sums;
  const auto dtype = examples.front().x0.scalar_type();
  const auto long_options = torch::TensorOptions().dtype(torch::kInt64).device(s.device);

  std::vector<Draw> draws;
  for (std::size_t i = 0; i < examples.size(); ++i) draws.push_back(draw_for(examples[i], keys[i], s));

  // Group by mode: a batch shares its conditioning frames (the denoiser runs one [N, T, 3] tensor), and
  // by whether the steps are per frame (they concatenate into [B] or [B, T]).
  std::map<std::pair<int, bool>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < examples.size(); ++i)
    groups[{static_cast<int>(draws[i].conditioning.mode), draws[i].steps.dim() == 2}].push_back(i);

  torch::Tensor total;
  const auto accumulate = [&total](const torch::Tensor& term) {
    total = total.defined() ? total + term : term;
  };
  if (s.diffusion_weight <= 0) groups.clear();  // property-only training: the denoiser does not run
  for (const auto& [group, members] : groups) {
    const int mode = group.first;
    std::vector<model::HemePLMInput> inputs;
    std::vector<torch::Tensor> x0, free, noise, weight, steps;
    for (std::size_t i : members) {
      model::HemePLMInput in = examples[i].input;
      const Draw& d = draws[i];
      in.known_frames = d.conditioning.known_frames;
      in.known_atoms = d.conditioning.known_atoms;
      in.diffusion_step = d.steps;
      in.x_given = examples[i].x0;  // replaced by the centred x0 below
      if (s.stage == 1 ||
          static_cast<diffusion::ConditioningMode>(mode) == diffusion::ConditioningMode::kUnconditional)
        drop_context(in);  // nothing known: a clean context would give the answer away
      inputs.push_back(std::move(in));
      x0.push_back(examples[i].x0);
      free.push_back(d.free);
      noise.push_back(d.noise.to(dtype));
      steps.push_back(d.steps);
      weight.push_back(examples[i].atom_weight.defined()
                           ? examples[i].atom_weight
                           : torch::ones({examples[i].x0.size(0)}, x0.back().options()));
    }
    auto in = model::concatenate_inputs(inputs);
    move_to(in, s.device);
    const auto graph = in.atom_graph;
    const auto graphs = in.graph_count;
    const auto noised = diffusion::corrupt(*s.schedule, torch::cat(x0).to(s.device), graph, graphs,
                                           torch::cat(steps).to(s.device), torch::cat(free).to(s.device),
                                           torch::cat(noise).to(s.device), s.kabsch);
    in.x_given = noised.x0;
    const auto frames = noised.x0.size(1);
    torch::Tensor eps_hat, free_frames;
    if (s.stage == 1) {
      eps_hat = model->denoise_conformer(in, noised.x_t);
      free_frames = torch::arange(frames, long_options);
    } else {
      eps_hat = model->forward(in, noised.x_t);
      free_frames = diffusion::free_frame_indices(in.known_frames, frames).to(s.device);
    }
    const auto losses =
        diffusion::epsilon_loss(eps_hat, free_frames, noised, graph, graphs, torch::cat(weight).to(s.device));
    const auto group_loss = losses.sum();
    accumulate(s.diffusion_weight * group_loss);
    sums.diffusion += group_loss.item<double>();
  }
  sums.examples = static_cast<double>(examples.size());

  // Energy and forces of the clean first frame, for labelled examples (whole systems only).
  if (s.energy_terms) {
    std::vector<model::HemePLMInput> labelled;
    std::vector<torch::Tensor> energy_ref, force_ref;
    for (auto& example : examples) {
      if (!example.energy.defined()) continue;
      labelled.push_back(clean_input(example));
      energy_ref.push_back(example.energy);
      force_ref.push_back(example.forces);
    }
    if (!labelled.empty()) {
      auto in = model::concatenate_inputs(labelled);
      move_to(in, s.device);
      auto graph = in.context_graph();
      // Forces need positions in the graph; training needs their double backward.
      torch::AutoGradMode grad_mode(true);
      graph.positions = graph.positions.detach().requires_grad_(true);
      const auto ef = model->energy_and_forces(graph, backward);
      const auto e_ref = torch::cat(energy_ref).to(s.device).to(ef.energy.scalar_type());
      const auto f_ref = torch::cat(force_ref).to(s.device).to(ef.forces.scalar_type());
      const auto e_err = (ef.energy - e_ref) / s.energy_std;
      const auto f_err = (ef.forces - f_ref) / s.energy_std;
      const auto per_atom = f_err.pow(2).mean(1);
      auto per_graph_sq =
          torch::zeros({graph.graph_count}, per_atom.options()).index_add(0, graph.batch, per_atom);
      const auto atoms = torch::zeros({graph.graph_count}, per_atom.options())
                             .index_add(0, graph.batch, torch::ones_like(per_atom));
      const auto force_loss = (per_graph_sq / atoms).sum();
      const auto energy_loss = e_err.pow(2).sum();
      accumulate(s.energy_weight * s.energy_alpha * energy_loss + s.force_weight * force_loss);
      sums.energy += energy_loss.item<double>();
      sums.forces += force_loss.item<double>();
      sums.energy_abs += (ef.energy - e_ref).abs().sum().item<double>();
      sums.force_abs += (ef.forces - f_ref).abs().sum().item<double>();
      sums.labelled += static_cast<double>(labelled.size());
      sums.force_components += static_cast<double>(f_ref.numel());
    }
  }
  if (!s.properties.empty()) {
    const auto property_total = property_loss(model, examples, s, sums);
    if (property_total.defined()) accumulate(property_total);
  }
  if (backward && total.defined() && total.requires_grad()) (total / scale).backward();
  return sums;
}

}  // namespace hemeplm::train
