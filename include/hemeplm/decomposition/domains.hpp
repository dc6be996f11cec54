// Domains: the residue contact graph partitioned into K parts with METIS, giving the
// residue -> domain -> protein map that hierarchical pooling sums over.
#pragma once

#include <vector>

#include "hemeplm/core/system.hpp"

namespace hemeplm::decomposition {

struct DomainMap {
  int count = 0;                    ///< K
  std::vector<int> residue_domain;  ///< per residue: 0..K-1, or -1 for residues that are not pooled
                                    ///< (ligands, water, ions); size System::residue_count()
  int edge_cut = 0;                 ///< contact edges between domains (METIS objective)
};

struct DomainOptions {
  int count = 8;                ///< K >= 1, at most the number of pooled residues
  double contact_cutoff = 8.0;  ///< Å between residue anchors (C-alpha; metal or first heavy atom otherwise)
  int seed = 42;                ///< METIS seed, so that the map is reproducible
};

/// Pooled residues are amino acids, caps, nucleotides and cofactors.
DomainMap partition_domains(const System& system, const DomainOptions& options);

}  // namespace hemeplm::decomposition
