// Multi-model PDB as a trajectory: each MODEL ... ENDMDL block is a frame (a file without MODEL records
// is one frame). Coordinates come from the fixed columns 31-54 with the validation of the structure
// reader (numeric, finite, not absurd); of alternate locations only the first one seen in a residue is
// kept, as load_system does, so frame atoms line up with the System. The file is read lazily, one model
// per next(), because MD exports can hold tens of thousands of models.
#include <charconv>
#include <cmath>
#include <fstream>
#include <unordered_map>

#include "hemeplm/core/error.hpp"
#include "trajectory_readers.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr double kAbsurdCoordinate = 1e5;  // Å, the structure reader's limit

std::string trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(' ');
  return std::string(text.substr(first, last - first + 1));
}

std::string_view field(const std::string& line, std::size_t begin, std::size_t count) {
  if (begin >= line.size()) return {};
  return std::string_view(line).substr(begin, count);
}

bool starts_with(const std::string& line, const char* tag) {
  return line.rfind(tag, 0) == 0;
}

class PdbModelsSource final : public TrajectorySource {
 public:
  explicit PdbModelsSource(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw InputError(path, "cannot open the file (missing or unreadable)");
    if (in_.peek() == std::ifstream::traits_type::eof()) throw InputError(path, "file is empty");
    // The first model fixes the atom count; keep it for the first next().
    if (!read_model(pending_)) throw InputError(path, "no ATOM or HETATM records: not a coordinate file");
    atoms_ = static_cast<int>(pending_.positions.size());
    has_pending_ = true;
  }

  const std::string& path() const override { return path_; }
  int atom_count() const override { return atoms_; }
  std::string description() const override {
    return "PDB models (Å; no times in the file: time = model index in ps, first altloc)";
  }

  bool next(TrajectoryFrame& frame) override {
    if (has_pending_) {
      frame = std::move(pending_);
      has_pending_ = false;
      return true;
    }
    return read_model(frame);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(path_, line_record(line_) + " (" + model_label_ + ")", problem);
  }

  double coordinate(const std::string& line, int axis) const {
    const std::string text = trimmed(field(line, 30 + 8 * static_cast<std::size_t>(axis), 8));
    const std::string name = std::string(1, "xyz"[axis]) + " coordinate";
    if (text.empty())
      fail(name + " (columns " + std::to_string(31 + 8 * axis) + "-" + std::to_string(38 + 8 * axis) +
           ") is blank");
    double value = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    if (*begin == '+') ++begin;
    const auto [stop, error] = std::from_chars(begin, end, value);
    if (error != std::errc() || stop != end || begin == end) fail(name + " '" + text + "' is not a number");
    if (!std::isfinite(value)) fail(name + " '" + text + "' is not finite");
    if (std::abs(value) > kAbsurdCoordinate)
      fail(name + " '" + text + "' is absurd (more than 100000 Å from the origin)");
    return value;
  }

  void read_cryst1(const std::string& line) {
    double cell[6] = {0, 0, 0, 90, 90, 90};
    const std::size_t begins[6] = {6, 15, 24, 33, 40, 47}, widths[6] = {9, 9, 9, 7, 7, 7};
    for (int k = 0; k < 6; ++k) {
      const std::string text = trimmed(field(line, begins[k], widths[k]));
      if (text.empty()) continue;
      const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), cell[k]);
      if (error != std::errc() || stop != text.data() + text.size() || !std::isfinite(cell[k])) {
        fail("CRYST1 value '" + text + "' is not a number");
      }
    }
    // 1 Å cubes are the PDB's placeholder for NMR/EM entries, not a periodic cell.
    const bool dummy = cell[0] == 1.0 && cell[1] == 1.0 && cell[2] == 1.0;
    box_ =
        dummy ? std::nullopt : box_from_lengths_angles(cell[0], cell[1], cell[2], cell[3], cell[4], cell[5]);
  }

  // Reads up to the end of the next model; false when the file holds no further atoms.
  bool read_model(TrajectoryFrame& frame) {
    frame.positions.clear();
    frame.velocities.clear();
    frame.forces.clear();
    frame.potential_energy.reset();
    if (ended_) return false;
    std::unordered_map<std::string, char> first_altloc;  // residue position -> first altloc seen
    bool in_model = false;
    model_label_ = "model " + std::to_string(frame_);
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (starts_with(line, "MODEL")) {
        if (in_model || !frame.positions.empty()) fail("MODEL inside a model (ENDMDL missing)");
        in_model = true;
        const std::string serial = trimmed(field(line, 6, 20));
        model_label_ = "model " + (serial.empty() ? std::to_string(frame_) : serial);
      } else if (starts_with(line, "ENDMDL")) {
        if (!in_model) fail("ENDMDL without MODEL");
        return finish(frame);
      } else if (starts_with(line, "CRYST1")) {
        read_cryst1(line);
      } else if (starts_with(line, "ATOM  ") || starts_with(line, "HETATM") || line == "ATOM" ||
                 line == "HETATM") {
        if (line.size() < 54) fail("ATOM/HETATM record shorter than 54 columns (coordinates cut off)");
        const char altloc = line[16];
        if (altloc != ' ') {
          // Residue position without the name (as load_system keys it, so that point mutations
          // written as altlocs keep only the first variant): chain, number, insertion code, segment.
          std::string residue = line.substr(20, 7) + std::string(field(line, 72, 4));
          const auto [it, added] = first_altloc.emplace(std::move(residue), altloc);
          if (!added && it->second != altloc) continue;
        }
        frame.positions.push_back({coordinate(line, 0), coordinate(line, 1), coordinate(line, 2)});
        if (frame_ > 0 && static_cast<int>(frame.positions.size()) > atoms_) {
          fail(model_label_ + " has more atoms than the first model (" + std::to_string(atoms_) + ")");
        }
      } else if (starts_with(line, "END") && !starts_with(line, "ENDMDL")) {
        ended_ = true;  // anything after END is not part of the entry
        break;
      }
    }
    if (in_model && frame.positions.empty()) fail("the file ends inside a MODEL without atoms");
    if (frame.positions.empty()) return false;
    return finish(frame);
  }

  bool finish(TrajectoryFrame& frame) {
    const int count = static_cast<int>(frame.positions.size());
    if (frame_ > 0 && count != atoms_) {
      fail(model_label_ + " has " + std::to_string(count) + " atoms, the first model has " +
           std::to_string(atoms_));
    }
    if (count == 0) fail(model_label_ + " has no atoms");
    frame.box = box_;
    frame.step = frame_;
    frame.time_ps = static_cast<double>(frame_);
    ++frame_;
    return true;
  }

  std::string path_;
  std::ifstream in_;
  long line_ = 0;
  long frame_ = 0;
  int atoms_ = 0;
  std::string model_label_;
  std::optional<Box> box_;
  TrajectoryFrame pending_;
  bool has_pending_ = false;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<TrajectorySource> open_pdb_models(const std::string& path) {
  return std::make_unique<PdbModelsSource>(path);
}

}  // namespace hemeplm::parallel_io
