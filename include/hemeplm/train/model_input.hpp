// System -> model::HemePLMInput: the one place where the chemistry of a System (bonds, residues,
// ligands, features) and the decomposition layer's neighbour search and domain partition become the
// index tensors of the model. Used by training (one input per sample) and by sampling (one per block).
#pragma once

#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/residue_embeddings.hpp"

namespace hemeplm::train {

struct ModelInputOptions {
  double cutoff = 5.0;  ///< Å, radius graph of the context; use the model's visnet.cutoff
  int max_hops = 3;     ///< bond-hop graph of the denoiser (bond_hop_edges)
  int domains = 8;      ///< K of the residue -> domain partition (<= pooling_domains);
                        ///< 0 = residues are not pooled (residue_domain all -1)
  torch::ScalarType dtype = torch::kFloat32;  ///< of features, positions and x_given (float64 for tests)
  bool with_context = true;                   ///< false: no context_positions/radius graph (no ViSNet)
  /// Per-residue embeddings looked up by (chain, residue number, insertion) for every residue token
  /// (residue_embedding [R, E]); null = none.
  std::shared_ptr<const parallel_io::ResidueEmbeddingTable> residue_embeddings;
};

/// Residue-token type of an amino-acid name: ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE
/// PRO SER THR TRP TYR VAL = 0..19; protonation/force-field variants map to their parent (HID/HIE/HIP/
/// HSD/HSE/HSP/HISD/HISE/HISH -> HIS, CYX/CYM -> CYS, ASH/ASPP -> ASP, GLH/GLUP -> GLU, LYN/LSN -> LYS,
/// ARN -> ARG, MSE -> MET); anything else (unknown amino acids, metal cofactors) is kOtherResidueType.
int residue_type_index(const std::string& residue_name);
inline constexpr int kOtherResidueType = static_cast<int>(model::kResidueTypeCount) - 1;

/// The whole System as one graph (graph_count 1). `x_given` is [N, T, 3] in Å (any floating dtype,
/// converted to options.dtype; atoms in System order); undefined means T = 1 with the System's
/// positions. Fills:
/// - atomic_numbers, atom_features (System::features, or recomputed with featurize() on a copy when
///   the System has none), atom_graph = 0, diffusion_step = [0] (the caller sets the step);
/// - the bond-hop graph (core's bond_hop_edges);
/// - context: the System's positions and their cell-list radius graph (set_context);
/// - residue tokens: amino acids with a carbon CA (anchor CA, type residue_type_index), and cofactor
///   residues with a metal atom (heme Fe, ...: type kOtherResidueType, anchor the metal), in System
///   order; atom_residue = -1 for ligands, water, ions, caps and everything else;
/// - ligand_atom: every atom of System::ligand_molecules();
/// - residue_domain: decomposition's partition_domains with min(options.domains, pooled residues)
///   domains, so a structure smaller than K residues still gets one residue per domain, never an error;
/// - frame_times = arange(T), x_given; known_frames and known_atoms stay undefined (the caller's).
/// Needs a running Kokkos runtime (the neighbour search and the domain partition are Kokkos code).
/// UsageError for a bad x_given shape, bad options or an atomic number >= 100.
model::HemePLMInput make_model_input(const System& system, const torch::Tensor& x_given = {},
                                     const ModelInputOptions& options = {});

/// Replaces the context of `input` by `positions` (N, Å) and their radius graph within `cutoff`:
/// decomposition's find_neighbors (both directions, no self-loops; src = j, dst = i as AtomGraph wants)
/// and, with a box, radius_shift = n0 a + n1 b + n2 c of the neighbour list's image, so that
/// pos[src] - pos[dst] + shift is the minimum-image vector. Positions take atom_features' dtype.
void set_context(model::HemePLMInput& input, Span<const Vec3> positions, const std::optional<Box>& box,
                 double cutoff);

}  // namespace hemeplm::train
