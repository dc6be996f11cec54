// A System restricted to some of its atoms (e.g. heavy atoms only for training data), with residues,
// chains, molecules and bonds re-indexed and emptied ones dropped.
#pragma once

#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm {

/// The atoms `keep` (ascending global indices) of `system`, in the same order. Features are copied,
/// not recomputed: they describe each atom in its full chemical context.
System select_atoms(const System& system, Span<const int> keep);

/// Indices of the atoms that are not hydrogen, ascending.
std::vector<int> heavy_atoms(const System& system);

}  // namespace hemeplm
