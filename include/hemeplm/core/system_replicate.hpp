// Copies of a System on a grid, for scale benchmarks (e.g. ~100k atoms from a ~10k-atom structure).
#pragma once

#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm {

/// The grid replicate_system places `copies` on: nx = ceil(cbrt(copies)), ny = ceil(sqrt(copies / nx)),
/// nz = ceil(copies / (nx * ny)), so nx * ny * nz >= copies. Copy k sits in cell (k % nx, (k / nx) % ny,
/// k / (nx * ny)) (x fastest) and is translated by cell * (extent + gap) per axis, where extent is the
/// size of the axis-aligned bounding box of the atoms (0 for an empty System). Copy 0 is not moved.
/// UsageError for copies < 1 or a negative or non-finite gap.
std::vector<Vec3> replication_offsets(const System& system, int copies, double gap = 10.0);

/// `copies` copies of `system` on a cubic-ish grid (nx*ny*nz >= copies, filled x fastest), each
/// translated by its grid cell times (extent + gap) where extent is the bounding box of the atoms (see
/// replication_offsets). Atoms, residues, chains, molecules, bonds and features are copied and
/// re-indexed: copy k holds atoms [k * n, (k + 1) * n) with n = system.atom_count(), in the original
/// order, and likewise residues, chains and molecules; bonds stay sorted by (a, b). Molecules keep their
/// kind (ligand molecules stay ligands, so ligand_molecules() lists copies * the original count).
///
/// Chains: copy 0 keeps the original chain names; each chain of a later copy gets the next name not yet
/// used in the result, trying single characters A-Z, a-z, 0-9 first, then two characters from the same
/// alphabet (3,844 more), then three. Chain names are therefore always unique, but only the first 62
/// chains of the result fit a one-character PDB chain column. Polymer molecules of later copies are
/// renamed after their new chains ("A+B" becomes e.g. "C+D"); other molecule names, residue names and
/// numbers, atom names, charges, features, origins (file and line of the original atom), sources and
/// model_count are copied unchanged.
///
/// The result is NON-PERIODIC: the box is dropped (also for copies == 1), because the copies would
/// overlap their periodic images; otherwise copies == 1 returns a System equal to `system`.
/// UsageError for copies < 1, a negative or non-finite gap, or a result above INT_MAX atoms or bonds.
System replicate_system(const System& system, int copies, double gap = 10.0);

}  // namespace hemeplm
