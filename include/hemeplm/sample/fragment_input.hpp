// The model inputs of one rank's fragments, cut from the whole System's input so that every index
// relation a fragment keeps is the whole system's: its bond-hop edges are the global edges between its
// atoms (a path leaving the fragment does not vanish, as it would if the fragment were re-bonded as a
// System of its own), features describe atoms in their full chemical context, and residues keep the
// global residue -> domain map. This is what makes a stitched prediction equal the whole-system one
// when the buffer covers the receptive field.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "hemeplm/decomposition/fragments.hpp"
#include "hemeplm/model/hemeplm_model.hpp"

namespace hemeplm::sample {

/// The whole System's static input (no context, no frames), built once on every rank: O(N) memory.
class GlobalInput {
 public:
  /// `input` from train::make_model_input(system, {}, with_context = false).
  explicit GlobalInput(model::HemePLMInput input);

  const model::HemePLMInput& input() const { return input_; }
  std::int64_t atom_count() const { return input_.atom_count(); }
  std::int64_t residue_count() const { return input_.residue_count(); }
  /// Ligand atoms (cross-attention tokens), ascending global ids.
  const std::vector<std::int64_t>& ligand_atoms() const { return ligand_atoms_; }
  /// Residue token of each atom (-1 for none) and the atom count of each token.
  const std::vector<std::int64_t>& atom_residue() const { return atom_residue_; }
  const std::vector<std::int64_t>& residue_atom_count() const { return residue_atom_count_; }
  const std::vector<std::int64_t>& residue_anchor() const { return residue_anchor_; }
  /// Bond-hop edges grouped by source atom (CSR over edge indices of input().bond_*).
  const std::vector<std::int64_t>& edge_offsets() const { return edge_offsets_; }
  const std::vector<std::int64_t>& edge_order() const { return edge_order_; }

 private:
  model::HemePLMInput input_;
  std::vector<std::int64_t> ligand_atoms_, atom_residue_, residue_atom_count_, residue_anchor_;
  std::vector<std::int64_t> edge_offsets_, edge_order_;
};

/// One fragment's static input. Atoms are the fragment's core and buffer in ascending global order;
/// residue tokens are the residues whose anchor lies in the core (whole residues: checked), with their
/// global domains; buffer atoms carry no residue token (their context arrives by halo exchange).
struct FragmentInput {
  int fragment = 0;
  model::HemePLMInput input;
  std::vector<std::int64_t> atoms;     ///< ascending global ids
  std::vector<char> core;              ///< per atom: in this fragment's core
  std::vector<double> weights;         ///< per atom: the plan's blending weight
  std::vector<std::int64_t> residues;  ///< global residue token of each input residue
};

/// UsageError naming the residue when the core holds a residue's anchor but not all of its atoms.
FragmentInput restrict_to_fragment(const GlobalInput& global, const decomposition::Fragment& fragment);

}  // namespace hemeplm::sample
