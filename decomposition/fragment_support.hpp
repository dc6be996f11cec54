// Internal helpers shared by the fragmentation schemes, domains and the rank plan: bond adjacency,
// polymer segments (runs of residues joined by backbone bonds), molecule groups, atom lookup by name
// and the neighbour search used for every distance query.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace hemeplm::decomposition::detail {

/// Covalent adjacency built from System::bonds (CSR). Built here rather than through
/// System::bonded_neighbors so that hand-made Systems without the core helpers work too.
struct BondGraph {
  std::vector<int> offsets;
  std::vector<int> neighbors;
  Span<const int> of(int atom) const {
    return {neighbors.data() + offsets[atom], static_cast<std::size_t>(offsets[atom + 1] - offsets[atom])};
  }
};
BondGraph make_bond_graph(const System& system);

bool is_protein_residue(ResidueKind kind);  ///< amino acid or terminal cap
bool is_polymer_residue(ResidueKind kind);  ///< protein residue or nucleotide

/// A run of consecutive residues of one chain in which every residue is joined to the next by a
/// backbone bond (peptide C-N, or O3'-P for nucleic acids). A chain break starts a new segment.
struct Segment {
  int chain = 0;
  int first_residue = 0;
  int residue_count = 0;
};

/// Segments of the residues accepted by `accept` (e.g. is_protein_residue), in chain order.
std::vector<Segment> polymer_segments(const System& system, const BondGraph& bonds,
                                      bool (*accept)(ResidueKind));

/// A non-polymer molecule: its kind and atoms (ascending). Residues without a molecule index form
/// one group each, so that hand-made Systems still work.
struct MoleculeGroup {
  MoleculeKind kind = MoleculeKind::kOther;
  std::vector<int> residues;
  std::vector<int> atoms;
};
std::vector<MoleculeGroup> non_polymer_molecules(const System& system);

/// Global index of the atom called `name` in `residue`, or -1.
int find_atom(const System& system, int residue, std::string_view name);

/// "ALA 12 of chain A" for messages.
std::string describe_residue(const System& system, int residue);

/// "atom 12 (CA of ALA 3 of chain A)" for messages.
std::string describe_atom(const System& system, int atom);

/// Neighbour list of all atoms of the System within `cutoff` (Å), periodic when the System has a box.
NeighborList system_neighbors(const System& system, double cutoff);

/// Distance (Å) between atom i and its e-th edge partner of `list` (global edge index), minimum image
/// with a box.
double edge_length(const NeighborList& list, const System& system, int i, std::int64_t e);

/// Sorts and removes duplicates.
void sort_unique(std::vector<int>& values);

}  // namespace hemeplm::decomposition::detail
