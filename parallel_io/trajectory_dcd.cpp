// CHARMM/NAMD/X-PLOR DCD, read natively. A DCD file is a sequence of Fortran unformatted records, each
// framed by its byte length (4-byte markers, or 8-byte markers from some old compilers) in the byte
// order of the writing machine. Header: an 84-byte "CORD" record with 20 control integers, a title
// record, and a record holding the atom count. Each frame: an optional 48-byte unit-cell record
// (CHARMM flag), then X, Y and Z records of float32 Å, and an optional fourth-dimension record.
//
// The header's frame count (NSET) is unreliable (NAMD leaves it stale when a run is killed), so, as
// MDAnalysis does, the frame count comes from the file size; a partial last frame is an error naming it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "hemeplm/core/error.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr double kAkmaPs = 4.888821e-2;  // one AKMA time unit in ps (CHARMM/NAMD), as in MDAnalysis
constexpr double kPi = 3.14159265358979323846;

template <typename T>
T load(const unsigned char* bytes, bool swap) {
  std::array<unsigned char, sizeof(T)> raw;
  std::memcpy(raw.data(), bytes, sizeof(T));
  if (swap) std::reverse(raw.begin(), raw.end());
  T value;
  std::memcpy(&value, raw.data(), sizeof(T));
  return value;
}

class DcdSource final : public TrajectorySource {
 public:
  explicit DcdSource(const std::string& path) : path_(path) {
    file_ = open_binary(path, size_);
    read_header();
    const long long body = size_ - header_bytes_;
    complete_frames_ = body / frame_bytes_;
    tail_bytes_ = body % frame_bytes_;
    buffer_.resize(static_cast<std::size_t>(frame_bytes_));
  }

  const std::string& path() const override { return path_; }
  int atom_count() const override { return atoms_; }
  std::string description() const override {
    return std::string("DCD (") + (charmm_ ? "CHARMM" : "X-PLOR") + (swap_ ? ", byte-swapped" : "") +
           (marker_ == 8 ? ", 64-bit record markers" : "") + (has_cell_ ? ", unit cell" : "") +
           "), Å, AKMA time -> ps";
  }

  bool next(TrajectoryFrame& frame) override {
    if (frame_ == complete_frames_) {
      if (tail_bytes_ != 0) {
        throw InputError(path_, frame_record(frame_),
                         "truncated: the file ends " + std::to_string(tail_bytes_) +
                             " bytes into the frame (" + std::to_string(frame_bytes_) + " bytes per frame)");
      }
      return false;
    }
    if (std::fread(buffer_.data(), 1, buffer_.size(), file_.get()) != buffer_.size()) {
      throw InputError(path_, frame_record(frame_), "read error");
    }
    const unsigned char* p = buffer_.data();
    frame.box.reset();
    if (has_cell_) {
      expect_record(p, 48, "unit-cell");
      std::array<double, 6> cell;
      for (int k = 0; k < 6; ++k) cell[k] = load<double>(p + marker_ + 8 * k, swap_);
      p += 48 + 2 * marker_;
      frame.box = cell_to_box(cell);
    }
    frame.positions.resize(atoms_);
    const long long record = 4LL * atoms_;
    for (int axis = 0; axis < 3; ++axis) {
      expect_record(p, record, axis == 0 ? "X" : (axis == 1 ? "Y" : "Z"));
      const unsigned char* values = p + marker_;
      for (int i = 0; i < atoms_; ++i) {
        const double v = load<float>(values + 4 * i, swap_);
        if (!std::isfinite(v)) {
          throw InputError(path_, frame_record(frame_),
                           std::string("coordinate ") + "xyz"[axis] + " of atom " + std::to_string(i + 1) +
                               " is not finite");
        }
        Vec3& r = frame.positions[i];
        (axis == 0 ? r.x : (axis == 1 ? r.y : r.z)) = v;
      }
      p += record + 2 * marker_;
    }
    frame.step = istart_ + frame_ * nsavc_;
    // MDAnalysis: time = (frame + istart/nsavc) * delta * nsavc.
    frame.time_ps = (static_cast<double>(frame_) * nsavc_ + istart_) * delta_ * kAkmaPs;
    frame.velocities.clear();
    frame.forces.clear();
    frame.potential_energy.reset();
    ++frame_;
    return true;
  }

 private:
  long long read_marker(const unsigned char* p) const {
    return marker_ == 4 ? load<std::int32_t>(p, swap_) : load<std::int64_t>(p, swap_);
  }

  // Checks the leading and trailing length markers of a record of `bytes` bytes starting at p.
  void expect_record(const unsigned char* p, long long bytes, const char* what) const {
    if (read_marker(p) != bytes || read_marker(p + marker_ + bytes) != bytes) {
      throw InputError(
          path_, frame_record(frame_),
          std::string("garbled ") + what + " record (length markers are not " + std::to_string(bytes) + ")");
    }
  }

  std::vector<unsigned char> read_bytes(long long count, const char* what) {
    if (count < 0 || offset_ + count > size_) {
      throw InputError(path_, "header", std::string("truncated or garbled ") + what);
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(count));
    if (std::fread(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
      throw InputError(path_, "header", std::string("read error in ") + what);
    }
    offset_ += count;
    return bytes;
  }

  long long read_header_marker(const char* what) { return read_marker(read_bytes(marker_, what).data()); }

  void read_header() {
    // Marker width and byte order from the first record, which must be 84 bytes holding "CORD".
    const std::vector<unsigned char> start = read_bytes(std::min<long long>(size_, 12), "first record");
    bool found = false;
    for (const int width : {4, 8}) {
      for (const bool swap : {false, true}) {
        if (found || static_cast<int>(start.size()) < width + 4) continue;
        marker_ = width, swap_ = swap;
        if (read_marker(start.data()) == 84 && std::memcmp(start.data() + width, "CORD", 4) == 0)
          found = true;
      }
    }
    if (!found) throw InputError(path_, "header", "not a DCD file (no 84-byte CORD record at the start)");
    std::fseek(file_.get(), marker_, SEEK_SET);
    offset_ = marker_;
    const std::vector<unsigned char> cord = read_bytes(84, "CORD record");
    const auto control = [&](int k) { return load<std::int32_t>(cord.data() + 4 + 4 * k, swap_); };
    charmm_ = control(19) != 0;  // CHARMM writes its version in the last control word; X-PLOR leaves 0
    has_cell_ = charmm_ && control(10) != 0;
    has_4d_ = charmm_ && control(11) == 1;
    istart_ = control(1);
    nsavc_ = control(2) > 0 ? control(2) : 1;
    const int fixed = control(8);
    // CHARMM stores the time step as float32, X-PLOR as float64 in the same place.
    delta_ = charmm_ ? load<float>(cord.data() + 40, swap_) : load<double>(cord.data() + 40, swap_);
    if (read_header_marker("CORD record") != 84)
      throw InputError(path_, "header", "garbled CORD record end marker");

    const long long title = read_header_marker("title record");
    if (title < 4 || (title - 4) % 80 != 0) throw InputError(path_, "header", "garbled title record");
    read_bytes(title, "title record");
    if (read_header_marker("title record") != title)
      throw InputError(path_, "header", "garbled title record end");

    if (read_header_marker("atom-count record") != 4)
      throw InputError(path_, "header", "garbled atom-count record");
    atoms_ = load<std::int32_t>(read_bytes(4, "atom count").data(), swap_);
    if (read_header_marker("atom-count record") != 4)
      throw InputError(path_, "header", "garbled atom-count record");
    if (atoms_ <= 0)
      throw InputError(path_, "header", "atom count " + std::to_string(atoms_) + " is not positive");
    if (fixed != 0) {
      throw InputError(
          path_, "header",
          "the file has " + std::to_string(fixed) +
              " fixed atoms (NAMNF); DCD files with fixed atoms are not supported, write all atoms");
    }
    header_bytes_ = offset_;
    const long long coordinate_record = 4LL * atoms_ + 2 * marker_;
    frame_bytes_ =
        3 * coordinate_record + (has_cell_ ? 48 + 2 * marker_ : 0) + (has_4d_ ? coordinate_record : 0);
    if (size_ == header_bytes_) throw InputError(path_, "the file has a DCD header but no frame");
  }

  // The unit-cell record holds [A, gamma, B, beta, alpha, C]; angles as cosines (CHARMM, NAMD >= 2.5),
  // degrees (NAMD 2.5), or a symmetric box matrix (new CHARMM). Same decision rule as MDAnalysis.
  std::optional<Box> cell_to_box(const std::array<double, 6>& u) const {
    double a = u[0], b = u[2], c = u[5], alpha = u[4], beta = u[3], gamma = u[1];
    const auto in_unit = [](double x) { return x >= -1.0 && x <= 1.0; };
    if (in_unit(alpha) && in_unit(beta) && in_unit(gamma)) {
      // 90 - asin(x) rather than acos(x): exact 90° for orthogonal cells.
      const auto angle = [](double cosine) { return 90.0 - std::asin(cosine) * 180.0 / kPi; };
      alpha = angle(alpha), beta = angle(beta), gamma = angle(gamma);
    } else if (a < 0 || b < 0 || c < 0 || alpha < 0 || beta < 0 || gamma < 0 || alpha > 180 || beta > 180 ||
               gamma > 180) {
      const Vec3 e1{u[0], u[1], u[3]}, e2{u[1], u[2], u[4]}, e3{u[3], u[4], u[5]};
      a = norm(e1), b = norm(e2), c = norm(e3);
      const auto angle = [](const Vec3& x, const Vec3& y) {
        return std::acos(std::clamp(dot(x, y) / (norm(x) * norm(y)), -1.0, 1.0)) * 180.0 / kPi;
      };
      alpha = angle(e2, e3), beta = angle(e1, e3), gamma = angle(e1, e2);
    }
    return box_from_lengths_angles(a, b, c, alpha, beta, gamma);
  }

  std::string path_;
  FilePtr file_;
  long long size_ = 0, offset_ = 0, header_bytes_ = 0, frame_bytes_ = 1;
  long long complete_frames_ = 0, tail_bytes_ = 0;
  int marker_ = 4;
  bool swap_ = false, charmm_ = false, has_cell_ = false, has_4d_ = false;
  int atoms_ = 0;
  long long istart_ = 0, nsavc_ = 1;
  double delta_ = 0;
  long long frame_ = 0;
  std::vector<unsigned char> buffer_;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_dcd(const std::string& path) {
  return std::make_unique<DcdSource>(path);
}

}  // namespace hemeplm::parallel_io
