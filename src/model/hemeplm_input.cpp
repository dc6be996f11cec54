// HemePLMInput helpers: its context as a ViSNet graph, and batching several inputs into one without
// padding (the way fragments of one rank, or samples of one training batch, go through the model).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/hemeplm_model.hpp"

namespace hemeplm::model {
namespace {

std::string where(std::size_t i) {
  return "concatenate_inputs: input " + std::to_string(i) + ": ";
}

/// All defined or all undefined; `what` names the field in the message.
bool all_or_none(const std::vector<HemePLMInput>& inputs, torch::Tensor HemePLMInput::*field,
                 const std::string& what) {
  const bool first = (inputs.front().*field).defined();
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    if ((inputs[i].*field).defined() != first) {
      throw UsageError(where(i) + what +
                       (first ? " is missing but input 0 has it" : " is set but input 0 has none"));
    }
  }
  return first;
}

/// cat over dim 0, every input defined (checked by the caller).
torch::Tensor cat_field(const std::vector<HemePLMInput>& inputs, torch::Tensor HemePLMInput::*field) {
  std::vector<torch::Tensor> parts;
  parts.reserve(inputs.size());
  for (const auto& in : inputs) parts.push_back(in.*field);
  return torch::cat(parts, 0);
}

/// The same floating dtype everywhere, so that cat never silently promotes float32 to float64.
void check_dtype(const std::vector<HemePLMInput>& inputs, torch::Tensor HemePLMInput::*field,
                 const std::string& what) {
  const auto dtype = (inputs.front().*field).scalar_type();
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    if ((inputs[i].*field).scalar_type() != dtype) {
      throw UsageError(where(i) + what + " is " +
                       std::string(c10::toString((inputs[i].*field).scalar_type())) + " but input 0's is " +
                       c10::toString(dtype));
    }
  }
}

std::int64_t rows(const torch::Tensor& t) {
  return t.defined() ? t.size(0) : 0;
}

}  // namespace

AtomGraph HemePLMInput::context_graph() const {
  if (!context_positions.defined()) {
    throw UsageError(
        "HemePLMInput::context_graph: the input has no context (context_positions is undefined)");
  }
  AtomGraph graph;
  graph.atomic_numbers = atomic_numbers;
  graph.positions = context_positions;
  graph.edge_src = radius_src;
  graph.edge_dst = radius_dst;
  graph.edge_shift = radius_shift;
  graph.batch = atom_graph;
  graph.graph_count = graph_count;
  return graph;
}

HemePLMInput concatenate_inputs(const std::vector<HemePLMInput>& inputs) {
  if (inputs.empty()) throw UsageError("concatenate_inputs: no inputs to concatenate");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    if (!in.atomic_numbers.defined() || !in.atom_graph.defined() || !in.atom_features.defined()) {
      throw UsageError(where(i) + "atomic_numbers, atom_features and atom_graph must all be set");
    }
    if (in.graph_count < 1) throw UsageError(where(i) + "graph_count must be >= 1");
  }
  // Frames are shared by the whole batch: the denoiser runs one [N, T, 3] tensor.
  const HemePLMInput& first = inputs.front();
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    if (in.frame_times.defined() != first.frame_times.defined() ||
        (first.frame_times.defined() && !torch::equal(in.frame_times, first.frame_times))) {
      throw UsageError(where(i) +
                       "frame_times differ from input 0's; only inputs with the same frames can be batched");
    }
    if (in.known_frames.defined() != first.known_frames.defined() ||
        (first.known_frames.defined() && !torch::equal(in.known_frames, first.known_frames))) {
      throw UsageError(where(i) +
                       "known_frames differ from input 0's; only inputs with the same mask can be batched");
    }
  }
  const bool has_context = all_or_none(inputs, &HemePLMInput::context_positions, "context_positions");
  const bool has_known_atoms = all_or_none(inputs, &HemePLMInput::known_atoms, "known_atoms");
  const bool has_x_given = all_or_none(inputs, &HemePLMInput::x_given, "x_given");
  const bool has_steps = all_or_none(inputs, &HemePLMInput::diffusion_step, "diffusion_step");
  check_dtype(inputs, &HemePLMInput::atom_features, "atom_features");
  if (has_context) check_dtype(inputs, &HemePLMInput::context_positions, "context_positions");
  if (has_x_given) check_dtype(inputs, &HemePLMInput::x_given, "x_given");
  bool any_shift = false, any_residue = false, any_ligand = false;
  for (const auto& in : inputs) {
    any_shift = any_shift || in.radius_shift.defined();
    any_residue = any_residue || in.atom_residue.defined() || in.residue_count() > 0;
    any_ligand = any_ligand || in.ligand_atom.defined();
  }

  const auto index_options = first.atomic_numbers.options().dtype(torch::kLong);
  std::vector<torch::Tensor> atom_graph, bond_src, bond_dst, bond_type, radius_src, radius_dst, radius_shift;
  std::vector<torch::Tensor> atom_residue, residue_type, residue_anchor, residue_domain, ligand_atom;
  std::vector<torch::Tensor> residue_embedding;
  bool any_embedding = false;
  for (const auto& in : inputs) any_embedding = any_embedding || in.residue_embedding.defined();
  std::int64_t atoms = 0, graphs = 0, residues = 0;
  for (const auto& in : inputs) {
    const auto n = in.atom_count();
    atom_graph.push_back(in.atom_graph + graphs);
    if (in.bond_src.defined()) {
      bond_src.push_back(in.bond_src + atoms);
      bond_dst.push_back(in.bond_dst + atoms);
      bond_type.push_back(in.bond_type);
    }
    if (has_context) {
      radius_src.push_back(in.radius_src + atoms);
      radius_dst.push_back(in.radius_dst + atoms);
      // A graph without a box next to a periodic one: its shifts are zero.
      if (any_shift) {
        radius_shift.push_back(in.radius_shift.defined()
                                   ? in.radius_shift
                                   : torch::zeros({rows(in.radius_src), 3}, in.context_positions.options()));
      }
    }
    if (any_residue) {
      // -1 (no residue) stays -1; an input without residues contributes only -1 atoms.
      atom_residue.push_back(
          in.atom_residue.defined()
              ? torch::where(in.atom_residue.ge(0), in.atom_residue + residues, in.atom_residue)
              : torch::full({n}, -1, index_options));
      if (in.residue_count() > 0) {
        residue_type.push_back(in.residue_type);
        residue_anchor.push_back(in.residue_anchor + atoms);
        residue_domain.push_back(in.residue_domain.defined()
                                     ? in.residue_domain
                                     : torch::full({in.residue_count()}, -1, index_options));
        if (any_embedding) {
          if (!in.residue_embedding.defined())
            throw UsageError(where(static_cast<std::size_t>(&in - inputs.data())) +
                             "has residues without residue_embedding while another input has them");
          residue_embedding.push_back(in.residue_embedding);
        }
      }
    }
    if (any_ligand) {
      ligand_atom.push_back(in.ligand_atom.defined() ? in.ligand_atom.to(torch::kBool)
                                                     : torch::zeros({n}, index_options.dtype(torch::kBool)));
    }
    atoms += n;
    graphs += in.graph_count;
    residues += in.residue_count();
  }

  const auto cat_or_empty = [&](const std::vector<torch::Tensor>& parts) {
    return parts.empty() ? torch::empty({0}, index_options) : torch::cat(parts, 0);
  };
  HemePLMInput out;
  out.atomic_numbers = cat_field(inputs, &HemePLMInput::atomic_numbers);
  out.atom_features = cat_field(inputs, &HemePLMInput::atom_features);
  out.atom_graph = torch::cat(atom_graph, 0);
  out.graph_count = graphs;
  if (has_steps) out.diffusion_step = cat_field(inputs, &HemePLMInput::diffusion_step);
  out.bond_src = cat_or_empty(bond_src);
  out.bond_dst = cat_or_empty(bond_dst);
  out.bond_type = cat_or_empty(bond_type);
  if (has_context) {
    out.context_positions = cat_field(inputs, &HemePLMInput::context_positions);
    out.radius_src = torch::cat(radius_src, 0);
    out.radius_dst = torch::cat(radius_dst, 0);
    if (any_shift) out.radius_shift = torch::cat(radius_shift, 0);
  }
  if (any_residue) {
    out.atom_residue = torch::cat(atom_residue, 0);
    out.residue_type = cat_or_empty(residue_type);
    out.residue_anchor = cat_or_empty(residue_anchor);
    out.residue_domain = cat_or_empty(residue_domain);
    if (!residue_embedding.empty()) out.residue_embedding = torch::cat(residue_embedding, 0);
  }
  if (any_ligand) out.ligand_atom = torch::cat(ligand_atom, 0);
  out.frame_times = first.frame_times;
  out.known_frames = first.known_frames;
  if (has_known_atoms) out.known_atoms = cat_field(inputs, &HemePLMInput::known_atoms);
  if (has_x_given) out.x_given = cat_field(inputs, &HemePLMInput::x_given);
  return out;
}

}  // namespace hemeplm::model
