// The 42 per-atom features (features.hpp) computed with RDKit from the System's own elements, bonds,
// bond orders and formal charges. Internal to the core layer.
#pragma once

#include "hemeplm/core/system.hpp"

namespace hemeplm {

/// Fills system.features (atom_count() x kAtomFeatureCount). Needs bonds (with orders) and formal
/// charges set. Residues without hydrogens get RDKit's implicit hydrogens, so features mean the same
/// with or without explicit H. A molecule RDKit cannot sanitise (e.g. a HETATM group whose bond
/// orders had to be guessed from distances) still gets every feature that does not need sanitisation.
void compute_atom_features(System& system);

}  // namespace hemeplm
