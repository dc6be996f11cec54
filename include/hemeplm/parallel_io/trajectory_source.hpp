// Reading MD trajectories frame by frame for `hemeplm prepare`: GROMACS XTC/TRR (through
// libgromacs), CHARMM/NAMD DCD (native), multi-model PDB, extended XYZ with energies and forces, H5MD,
// and conformer sets (SDF/MOL2 records of one molecule, one frame each, no time axis). Every source
// converts to hemeplm's units: Å, ps, kJ/mol, kJ/mol/Å.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::parallel_io {

struct TrajectoryFrame {
  std::int64_t step = 0;
  double time_ps = 0;
  std::vector<Vec3> positions;             ///< Å, one per atom in file order
  std::optional<Box> box;                  ///< Å
  std::vector<Vec3> velocities;            ///< Å/ps, empty when the file has none
  std::vector<Vec3> forces;                ///< kJ/mol/Å, empty when the file has none
  std::optional<double> potential_energy;  ///< kJ/mol
};

class TrajectorySource {
 public:
  virtual ~TrajectorySource() = default;
  virtual const std::string& path() const = 0;
  virtual int atom_count() const = 0;
  /// Reads the next frame into `frame`; false at the end. InputError names the file and the frame.
  virtual bool next(TrajectoryFrame& frame) = 0;
  /// What the file states about its units and contents, for provenance ("XTC, nm -> Å").
  virtual std::string description() const = 0;
};

/// Opens a trajectory by extension: .xtc .trr .dcd .pdb/.ent (MODEL records) .xyz/.extxyz .h5md/.h5.
std::unique_ptr<TrajectorySource> open_trajectory(const std::string& path);

/// True when the file describes its own atoms (extended XYZ, multi-model PDB, hemeplm H5MD), so that
/// `prepare` needs no --topology.
bool trajectory_has_topology(const std::string& path);

}  // namespace hemeplm::parallel_io
