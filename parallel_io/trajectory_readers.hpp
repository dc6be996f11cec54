// Factories of the concrete TrajectorySource classes, one per format file, and small helpers they share.
// Internal to the parallel_io layer.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "hemeplm/parallel_io/trajectory_source.hpp"

namespace hemeplm::parallel_io {

std::unique_ptr<TrajectorySource> open_xtc_trr(const std::string& path);     // trajectory_xtc_trr.cpp
std::unique_ptr<TrajectorySource> open_dcd(const std::string& path);         // trajectory_dcd.cpp
std::unique_ptr<TrajectorySource> open_pdb_models(const std::string& path);  // trajectory_pdb_models.cpp
std::unique_ptr<TrajectorySource> open_extxyz(const std::string& path);      // trajectory_extxyz.cpp
std::unique_ptr<TrajectorySource> open_h5md(const std::string& path);        // trajectory_h5md.cpp
std::unique_ptr<TrajectorySource> open_conformers(const std::string& path);  // trajectory_sdf.cpp

/// "frame 12" (0-based, as GROMACS and MDAnalysis count frames) for InputError records.
std::string frame_record(long frame);

/// Closes a FILE* when it goes out of scope.
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// Opens a file for binary reading; InputError when it is missing, unreadable or empty. `size` gets its
/// length in bytes.
FilePtr open_binary(const std::string& path, long long& size);

/// Box vectors (Å) from cell lengths (Å) and angles (degrees), in the convention of MDAnalysis and
/// GROMACS (a along x, b in the xy plane); nullopt when a length is zero (no cell stored).
std::optional<Box> box_from_lengths_angles(double a, double b, double c, double alpha, double beta,
                                           double gamma);

}  // namespace hemeplm::parallel_io
