// Reading training samples: the frames of a WindowSample (from ShardedWindowSampler) for a set of atoms
// (the whole system, an AtomRange, or a fragment's atom index list) out of an H5MD dataset. Every rank
// reads independently what it samples; nothing here is collective.
#pragma once

#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/vec3.hpp"
#include "hemeplm/parallel_io/dataset_sampler.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {

enum class DatasetQuantity { kPositions, kVelocities, kForces };

class DatasetReader {
 public:
  /// Opens `path` (an H5MD dataset, docs/h5md-layout.md). With a communicator other than MPI_COMM_SELF
  /// the file is opened with MPI-IO; reads stay independent.
  DatasetReader(const std::string& path, int window_frames, MPI_Comm comm = MPI_COMM_SELF);

  const H5mdReader& h5md() const { return reader_; }
  int window_frames() const { return window_frames_; }
  int atom_count() const { return reader_.atom_count(); }
  std::vector<TrajectoryInfo> trajectories() const { return reader_.trajectories(); }

  /// The window's frames for atoms [atoms.first, atoms.first + atoms.count), frame-major into `out`
  /// (size window_frames * atoms.count): one hyperslab read.
  void read(const WindowSample& sample, AtomRange atoms, DatasetQuantity quantity, Span<Vec3> out) const;

  /// The window's frames for the listed atoms (any order, repeats allowed), frame-major in list order
  /// into `out` (size window_frames * atoms.size()). Fragments are scattered index lists, and one HDF5
  /// read costs about as much as reading a few hundred extra atoms, so the sorted list is cut into
  /// runs, runs separated by at most `max_gap` unused atoms are read as one range, and the unused atoms
  /// are dropped. max_gap = 0 reads every run of consecutive atoms separately; a huge max_gap reads
  /// the covering range once.
  void read(const WindowSample& sample, Span<const int> atoms, DatasetQuantity quantity, Span<Vec3> out,
            int max_gap = 512);

  /// Box of the window's first frame, or nullopt for a non-periodic dataset.
  std::optional<Box> box(const WindowSample& sample) const { return reader_.box(sample.first_frame); }

  /// Per-frame property labels (/observables/properties, read once when the file is opened).
  std::vector<std::string> property_names() const { return properties_.names; }  ///< sorted
  /// The stored unit of a property ("" when none); InputError when the dataset lacks the property.
  std::string property_unit(const std::string& name) const;
  /// A property's value at a frame (global index), as stored; InputError when the dataset lacks it,
  /// UsageError for a frame outside the file.
  double property(const std::string& name, std::int64_t frame) const;
  const FrameProperties& properties() const { return properties_; }

 private:
  std::size_t property_index(const std::string& name) const;

  H5mdReader reader_;
  FrameProperties properties_;
  int window_frames_;
  std::vector<std::pair<int, int>> sorted_;  ///< (atom, position in the list), reused between reads
  std::vector<Vec3> scratch_;                ///< one run's frames, reused between reads
};

/// Every property of every frame of a dataset (opened with MPI_COMM_SELF): for evaluation.
FrameProperties read_frame_properties(const std::string& h5md_path);

}  // namespace hemeplm::parallel_io
