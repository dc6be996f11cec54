// One molecule of a molecule set (QM9) as an H5MD dataset: the hemeplm dataset layout with one frame
// plus the molecule's property labels under /observables/properties (docs/h5md-layout.md). Written by
// one process (MPI_COMM_SELF), so that ranks can share a molecule set file by file.
#pragma once

#include <string>
#include <vector>

#include "hemeplm/core/molecular_properties.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm::parallel_io {

struct MoleculeDatasetInfo {
  std::string source;                  ///< trajectory index entry, e.g. "qm9.xyz#frame 12"
  std::string config_json = "{}";      ///< stored in /parameters/hemeplm config
  std::string provenance_json = "{}";  ///< stored in /parameters/hemeplm provenance
};

/// Writes `system` (its positions are the frame; Å) and `properties` (one float64 series of one frame
/// each, with their units) to `path`. The file appears only when complete: it is written under a
/// temporary name in the same folder and renamed. Error naming the file on failure.
void write_molecule_dataset(const std::string& path, const System& system,
                            const std::vector<MoleculeProperty>& properties, const MoleculeDatasetInfo& info);

}  // namespace hemeplm::parallel_io
