// H5MD 1.1 trajectories and datasets (docs/h5md-layout.md), written collectively with parallel HDF5 and
// read serially or in parallel. Takes spans and buffers: no torch here.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::parallel_io {

/// A contiguous run of global atom indices [first, first + count): the atoms a rank owns for writing.
struct AtomRange {
  int first = 0;
  int count = 0;
};

/// The balanced contiguous split of `atom_count` atoms over `ranks` ranks (rank r gets its share).
AtomRange owned_atoms(int atom_count, int rank, int ranks);

struct H5mdWriterOptions {
  int chunk_frames = 32;  ///< frames buffered per collective write (HDF5 chunk along time)
  /// Seconds between file flushes (metadata + fsync), which bound what a killed run loses; chunks are
  /// written as they fill either way. 0 flushes after every chunk (slower: one fsync per chunk).
  double flush_interval_s = 10.0;
  bool velocities = false;               ///< write particles/trajectory/velocity (Å/ps)
  bool forces = false;                   ///< write particles/trajectory/force (kJ/mol/Å)
  std::vector<std::string> observables;  ///< scalar series under /observables, e.g. "potential_energy";
                                         ///< names ending in "energy" get unit "kJ mol-1"; a name with
                                         ///< '/' ("properties/gap") lives in a subgroup
  /// Units of the observables, in their order; empty (or a shorter list) = the rule above.
  std::vector<std::string> observable_units;
  std::string author = "hemeplm";
  std::string config_json = "{}";      ///< resolved configuration, stored in /parameters/hemeplm
  std::string provenance_json = "{}";  ///< program, inputs, force field, charge model, ...
};

/// One frame of the atoms a rank owns. Positions in Å, velocities in Å/ps, forces in kJ/mol/Å.
struct FrameView {
  std::int64_t step = 0;
  double time_ps = 0;
  Span<const Vec3> positions;      ///< size = owned atom count
  const Box* box = nullptr;        ///< required when the System is periodic
  Span<const Vec3> velocities;     ///< when options.velocities
  Span<const Vec3> forces;         ///< when options.forces
  Span<const double> observables;  ///< values in options.observables order (rank 0's are written)
};

/// Collective writer: every rank of `comm` constructs it with the same path, System and options and its
/// own AtomRange (the ranges must partition the atoms), appends the same frames, and calls close().
/// The file is identical for any number of ranks. Frames reach the file every chunk_frames appends;
/// the file is flushed at most every flush_interval_s (and on flush/close), so a killed run leaves a
/// readable file holding every frame up to its last flush.
class H5mdWriter {
 public:
  H5mdWriter(MPI_Comm comm, const std::string& path, const System& system, AtomRange owned,
             const H5mdWriterOptions& options);
  ~H5mdWriter();  ///< releases handles; call close() first for a complete file
  H5mdWriter(const H5mdWriter&) = delete;
  H5mdWriter& operator=(const H5mdWriter&) = delete;

  /// Starts a new source trajectory in the dataset index (/parameters/hemeplm/trajectories). Frames
  /// appended before the first call belong to one trajectory named after the file.
  void begin_trajectory(const std::string& source, double dt_ps);
  void append(const FrameView& frame);
  void flush();  ///< collective: writes buffered frames and flushes the file
  void close();  ///< collective: flush, write the dataset index, close
  std::int64_t frames_appended() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// One source trajectory inside a dataset.
struct TrajectoryInfo {
  std::int64_t first_frame = 0;
  std::int64_t frame_count = 0;
  std::string source;
  double dt_ps = 0;
};

/// Per-frame scalar labels of a dataset (/observables/properties/<name>, docs/h5md-layout.md).
struct FrameProperties {
  std::vector<std::string> names;           ///< sorted
  std::vector<std::string> units;           ///< per name; "" when the file states none
  std::vector<std::vector<double>> values;  ///< [name][frame], as stored (no unit conversion)
};

/// Group of the property series in a dataset, and the observable name of one property for
/// H5mdWriterOptions::observables.
inline constexpr const char* kPropertiesGroup = "/observables/properties";
inline std::string property_observable(const std::string& name) {
  return "properties/" + name;
}

/// Reader of hemeplm (and other MDAnalysis-compatible) H5MD files. With a communicator other than
/// MPI_COMM_SELF the file is opened with MPI-IO and each rank reads independently what it asks for.
/// Errors are InputError naming the file and the dataset.
class H5mdReader {
 public:
  explicit H5mdReader(const std::string& path, MPI_Comm comm = MPI_COMM_SELF);
  ~H5mdReader();
  H5mdReader(const H5mdReader&) = delete;
  H5mdReader& operator=(const H5mdReader&) = delete;

  const std::string& path() const;
  int atom_count() const;
  std::int64_t frame_count() const;
  std::vector<std::int64_t> steps() const;
  std::vector<double> times_ps() const;
  bool has_velocities() const;
  bool has_forces() const;
  std::vector<std::string> observable_names() const;

  /// Positions (Å) of frames [first, first + count) for atoms `atoms`, frame-major into `out`
  /// (size count * atoms.count).
  void read_positions(std::int64_t first, std::int64_t count, AtomRange atoms, Span<Vec3> out) const;
  void read_velocities(std::int64_t first, std::int64_t count, AtomRange atoms, Span<Vec3> out) const;
  void read_forces(std::int64_t first, std::int64_t count, AtomRange atoms, Span<Vec3> out) const;
  /// Box of a frame, or nullopt for a non-periodic file.
  std::optional<Box> box(std::int64_t frame) const;
  std::vector<double> read_observable(const std::string& name, std::int64_t first, std::int64_t count) const;
  /// Every property series of every frame (empty when the file has none).
  FrameProperties read_properties() const;

  /// The System stored in /parameters/hemeplm/topology, with frame 0's positions and features
  /// recomputed. InputError when the file has no hemeplm topology.
  System read_system() const;
  std::vector<TrajectoryInfo> trajectories() const;  ///< one entry covering all frames if none stored
  std::string config_json() const;
  std::string provenance_json() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hemeplm::parallel_io
