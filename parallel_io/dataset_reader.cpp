#include "hemeplm/parallel_io/dataset_reader.hpp"

#include <algorithm>

#include "hemeplm/core/error.hpp"

namespace hemeplm::parallel_io {

DatasetReader::DatasetReader(const std::string& path, int window_frames, MPI_Comm comm)
    : reader_(path, comm), properties_(reader_.read_properties()), window_frames_(window_frames) {
  if (window_frames_ < 1)
    throw UsageError("window frames must be at least 1, got " + std::to_string(window_frames_));
}

std::size_t DatasetReader::property_index(const std::string& name) const {
  const auto& names = properties_.names;
  const auto it = std::lower_bound(names.begin(), names.end(), name);
  if (it == names.end() || *it != name)
    throw InputError(reader_.path(), std::string(kPropertiesGroup) + "/" + name,
                     names.empty() ? "the dataset holds no properties (prepare --molecules stores them)"
                                   : "no such property");
  return static_cast<std::size_t>(it - names.begin());
}

std::string DatasetReader::property_unit(const std::string& name) const {
  return properties_.units[property_index(name)];
}

double DatasetReader::property(const std::string& name, std::int64_t frame) const {
  const std::vector<double>& values = properties_.values[property_index(name)];
  if (frame < 0 || frame >= static_cast<std::int64_t>(values.size()))
    throw UsageError(reader_.path() + ": property frame " + std::to_string(frame) + " is outside 0.." +
                     std::to_string(static_cast<std::int64_t>(values.size()) - 1));
  return values[static_cast<std::size_t>(frame)];
}

FrameProperties read_frame_properties(const std::string& h5md_path) {
  return H5mdReader(h5md_path, MPI_COMM_SELF).read_properties();
}

void DatasetReader::read(const WindowSample& sample, AtomRange atoms, DatasetQuantity quantity,
                         Span<Vec3> out) const {
  switch (quantity) {
    case DatasetQuantity::kPositions:
      reader_.read_positions(sample.first_frame, window_frames_, atoms, out);
      break;
    case DatasetQuantity::kVelocities:
      reader_.read_velocities(sample.first_frame, window_frames_, atoms, out);
      break;
    case DatasetQuantity::kForces:
      reader_.read_forces(sample.first_frame, window_frames_, atoms, out);
      break;
  }
}

void DatasetReader::read(const WindowSample& sample, Span<const int> atoms, DatasetQuantity quantity,
                         Span<Vec3> out, int max_gap) {
  const std::size_t n = atoms.size();
  if (out.size() != n * static_cast<std::size_t>(window_frames_))
    throw UsageError(reader_.path() + ": output buffer holds " + std::to_string(out.size()) + " vectors, " +
                     std::to_string(window_frames_) + " frames x " + std::to_string(n) + " atoms need " +
                     std::to_string(n * static_cast<std::size_t>(window_frames_)));
  const int atom_total = reader_.atom_count();
  sorted_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (atoms[i] < 0 || atoms[i] >= atom_total)
      throw UsageError(reader_.path() + ": atom index " + std::to_string(atoms[i]) + " is outside 0.." +
                       std::to_string(atom_total - 1));
    sorted_[i] = {atoms[i], static_cast<int>(i)};
  }
  std::sort(sorted_.begin(), sorted_.end());
  const std::size_t frames = static_cast<std::size_t>(window_frames_);
  for (std::size_t begin = 0; begin < n;) {
    // Grow the range while the next atom is within max_gap unused atoms of the current end.
    std::size_t end = begin + 1;
    while (end < n && sorted_[end].first - sorted_[end - 1].first - 1 <= max_gap) ++end;
    const int first = sorted_[begin].first;
    const int count = sorted_[end - 1].first - first + 1;
    scratch_.resize(frames * static_cast<std::size_t>(count));
    read(sample, AtomRange{first, count}, quantity, scratch_);
    for (std::size_t k = begin; k < end; ++k) {
      const std::size_t column = static_cast<std::size_t>(sorted_[k].first - first);
      const std::size_t slot = static_cast<std::size_t>(sorted_[k].second);
      for (std::size_t f = 0; f < frames; ++f)
        out[f * n + slot] = scratch_[f * static_cast<std::size_t>(count) + column];
    }
    begin = end;
  }
}

}  // namespace hemeplm::parallel_io
