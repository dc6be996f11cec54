// Internal to the H5MD writer and reader: the System <-> /parameters/hemeplm/topology round trip, the
// VMD h5mdplugin topology (/parameters/vmd_structure) and /connectivity/bonds. Serial HDF5 only: the
// writer stores static data from rank 0 before the collective phase, because parallel HDF5 1.10 cannot
// write variable-length strings.
#pragma once

#include <hdf5.h>

#include "hemeplm/core/system.hpp"

namespace hemeplm::parallel_io {

/// Writes /parameters/hemeplm/topology, /parameters/vmd_structure and /connectivity/bonds (whose
/// particles_group references /particles/trajectory, which must exist). Throws h5::Failure.
void write_topology(hid_t file, const System& system);

/// Rebuilds atoms, residues, chains, molecules, bonds, formal charges and the stored box from
/// /parameters/hemeplm/topology (positions are left at zero, features empty). Checks every index
/// against the table it points into. Throws h5::Failure naming the dataset.
System read_topology(hid_t file);

}  // namespace hemeplm::parallel_io
