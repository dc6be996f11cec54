// open_trajectory: picks the reader by file extension, after checking the file exists, so that every
// format reports a missing file the same way.
#include "hemeplm/parallel_io/trajectory_source.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "hemeplm/core/error.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

std::string frame_record(long frame) {
  return "frame " + std::to_string(frame);
}

FilePtr open_binary(const std::string& path, long long& size) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) throw InputError(path, "file not found");
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw InputError(path, "cannot open the file for reading");
  size = static_cast<long long>(std::filesystem::file_size(path, error));
  if (error) throw InputError(path, "cannot determine the file size");
  if (size == 0) throw InputError(path, "file is empty");
  return file;
}

std::optional<Box> box_from_lengths_angles(double a, double b, double c, double alpha, double beta,
                                           double gamma) {
  if (!(a > 0 && b > 0 && c > 0)) return std::nullopt;
  constexpr double kPi = 3.14159265358979323846;
  // Exact zeros for right angles, so that orthorhombic cells stay orthorhombic.
  const auto cosine = [&](double degrees) { return degrees == 90.0 ? 0.0 : std::cos(degrees * kPi / 180.0); };
  const double cos_alpha = cosine(alpha), cos_beta = cosine(beta), cos_gamma = cosine(gamma);
  const double sin_gamma = gamma == 90.0 ? 1.0 : std::sin(gamma * kPi / 180.0);
  if (!(std::abs(sin_gamma) > 1e-9)) return std::nullopt;
  Box box;
  box.vectors[0] = {a, 0, 0};
  box.vectors[1] = {b * cos_gamma, b * sin_gamma, 0};
  const double cy = (cos_alpha - cos_beta * cos_gamma) / sin_gamma;
  const double cz2 = 1 - cos_beta * cos_beta - cy * cy;
  box.vectors[2] = {c * cos_beta, c * cy, c * std::sqrt(std::max(cz2, 0.0))};
  return box;
}

std::unique_ptr<TrajectorySource> open_trajectory(const std::string& path) {
  const std::string ext = lower_extension(path);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw InputError(path, "file not found");
  if (ext == ".xtc" || ext == ".trr") return open_xtc_trr(path);
  if (ext == ".dcd") return open_dcd(path);
  if (ext == ".pdb" || ext == ".ent") return open_pdb_models(path);
  if (ext == ".xyz" || ext == ".extxyz") return open_extxyz(path);
  if (ext == ".h5md" || ext == ".h5") return open_h5md(path);
  if (ext == ".sdf" || ext == ".sd" || ext == ".mol2") return open_conformers(path);
  throw InputError(path, "unknown trajectory format '" + ext +
                             "' (expected .xtc .trr .dcd .pdb .ent .xyz .extxyz .h5md .h5 .sdf .sd .mol2)");
}

bool trajectory_has_topology(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".pdb" || ext == ".ent" || ext == ".xyz" || ext == ".extxyz" || ext == ".h5md" ||
         ext == ".h5" || ext == ".sdf" || ext == ".sd" || ext == ".mol2";
}

}  // namespace hemeplm::parallel_io
