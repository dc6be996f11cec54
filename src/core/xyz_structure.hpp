// An extended XYZ file as a structure: the first frame becomes a System of small molecules. Internal to
// the core layer (load_system dispatches here for .xyz/.extxyz).
#pragma once

#include <string>

#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm {

/// Atoms of frame 0 in file order; bonds (order 1) from covalent radii; one residue "MOL" per connected
/// run of atoms, one ligand molecule per connected component, all in chain "A". Features are not
/// computed here (load_system does that after appending ligand files).
System read_xyz_system(const std::string& path);

/// The same for any frame (a molecule of a molecule set); `path` names the file in System::sources.
System xyz_frame_system(const ExtxyzFrame& frame, const std::string& path);

}  // namespace hemeplm
