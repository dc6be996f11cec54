// Extended XYZ reader. The comment line is parsed as key=value pairs with "quoted" values; atom lines
// are split on whitespace and interpreted through the Properties key (ASE's default when absent is
// species:S:1:pos:R:3). Numbers are checked to be numbers and finite, since a NaN in a training set
// silently poisons every gradient that touches it.
#include "hemeplm/core/extxyz.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>

#include "atom_features.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "xyz_structure.hpp"

namespace hemeplm {
namespace {

// A trajectory whose atoms change is usually a set of different molecules (QM9 and the like).
constexpr const char* kMoleculeSetHint =
    " (a trajectory keeps its atoms; a set of different molecules is read with hemeplm prepare --molecules)";

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// Parses a whole token as a finite double; the message is empty on success.
std::string parse_real(std::string_view token, const std::string& what, double& value) {
  const char* begin = token.data();
  const char* end = token.data() + token.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [stop, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || stop != end || begin == end) {
    return what + " '" + std::string(token) + "' is not a number";
  }
  if (!std::isfinite(value)) return what + " '" + std::string(token) + "' is not finite";
  return {};
}

// key=value pairs of the comment line; a bare key means "T" as in ASE.
std::vector<std::pair<std::string, std::string>> parse_key_values(std::string_view text,
                                                                  std::string& problem) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t i = 0;
  const auto read_word = [&](std::string& out) {
    if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
      const char quote = text[i++];
      while (i < text.size() && text[i] != quote) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        out += text[i++];
      }
      if (i >= text.size()) {
        problem = "unterminated quoted value in the comment line";
        return;
      }
      ++i;
      return;
    }
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '=')
      out += text[i++];
  };
  while (problem.empty()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    std::string key, value = "T";
    read_word(key);
    if (i < text.size() && text[i] == '=') {
      ++i;
      value.clear();
      read_word(value);
    } else if (key.empty()) {
      problem = "stray '" + std::string(1, text[i]) + "' in the comment line";
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

}  // namespace

ExtxyzReader::ExtxyzReader(const std::string& path, ExtxyzAtoms atoms)
    : path_(path), atoms_(atoms), in_(path) {
  if (!in_) throw InputError(path, std::filesystem::exists(path) ? "cannot open the file" : "file not found");
  if (in_.peek() == std::ifstream::traits_type::eof()) throw InputError(path, "file is empty");
}

void ExtxyzReader::fail(long line, const std::string& problem) const {
  throw InputError(path_, line_record(line) + " (frame " + std::to_string(frames_read_) + ")", problem);
}

bool ExtxyzReader::read_line(std::string& line) {
  if (!std::getline(in_, line)) return false;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void ExtxyzReader::parse_comment(const std::string& line, ExtxyzFrame& frame) {
  std::string problem;
  const auto pairs = parse_key_values(line, problem);
  if (!problem.empty()) fail(line_, problem);
  std::string properties = "species:S:1:pos:R:3";
  bool periodic = true;  // ASE: a Lattice without pbc means periodic
  std::optional<Box> lattice;
  frame.properties.clear();
  for (const auto& [key, value] : pairs) {
    if (key == "Properties") {
      properties = value;
    } else if (key == "energy") {
      double e = 0;
      problem = parse_real(value, "energy", e);
      if (!problem.empty()) fail(line_, problem);
      frame.energy = e;
    } else if (key == "Lattice") {
      const auto tokens = split_whitespace(value);
      if (tokens.size() != 9) fail(line_, "Lattice has " + std::to_string(tokens.size()) + " numbers, not 9");
      Box box;
      for (int k = 0; k < 9; ++k) {
        double v = 0;
        problem = parse_real(tokens[k], "Lattice value", v);
        if (!problem.empty()) fail(line_, problem);
        Vec3& row = box.vectors[k / 3];
        (k % 3 == 0 ? row.x : (k % 3 == 1 ? row.y : row.z)) = v;
      }
      lattice = box;
    } else if (key == "pbc") {
      periodic = value.find_first_of("Tt1") != std::string::npos;
    } else {
      // Per-structure labels (QM9's mu, epsgap, <R2>, ...); text values such as config_type are not
      // labels and are skipped.
      double v = 0;
      if (parse_real(value, key, v).empty()) frame.properties[key] = v;
    }
  }
  if (lattice && periodic) frame.box = lattice;

  // Columns of the atom lines; in a trajectory the first frame fixes them and later frames must agree.
  Column species, pos, forces;
  int token = 0;
  std::vector<std::string_view> fields;
  std::string_view rest = properties;
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    fields.push_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  if (fields.size() % 3 != 0) fail(line_, "Properties '" + properties + "' is not name:type:count triples");
  for (std::size_t f = 0; f < fields.size(); f += 3) {
    int count = 0;
    const auto [stop, error] =
        std::from_chars(fields[f + 2].data(), fields[f + 2].data() + fields[f + 2].size(), count);
    if (error != std::errc() || stop != fields[f + 2].data() + fields[f + 2].size() || count < 1) {
      fail(line_, "Properties column count '" + std::string(fields[f + 2]) + "' is not a positive integer");
    }
    const std::string_view name = fields[f], type = fields[f + 1];
    const auto take = [&](Column& column, int want, std::string_view want_type) {
      if (count != want || type != want_type) {
        fail(line_, "Properties entry '" + std::string(name) + "' must be " + std::string(want_type) + ":" +
                        std::to_string(want));
      }
      column = {token, true};
    };
    if (name == "species") take(species, 1, "S");
    if (name == "pos") take(pos, 3, "R");
    if (name == "forces" || name == "force") take(forces, 3, "R");
    token += count;
  }
  if (!species.present || !pos.present) fail(line_, "Properties '" + properties + "' lacks species or pos");
  if (frames_read_ == 0 || atoms_ == ExtxyzAtoms::kVariable) {
    species_ = species, pos_ = pos, forces_ = forces, tokens_per_atom_ = token;
  } else if (species.first != species_.first || pos.first != pos_.first ||
             forces.present != forces_.present || forces.first != forces_.first ||
             token != tokens_per_atom_) {
    fail(line_, "Properties '" + properties + "' differs from frame 0's columns");
  }
}

bool ExtxyzReader::next(ExtxyzFrame& frame) {
  std::string line;
  // Blank lines between frames and at the end are tolerated.
  do {
    if (!read_line(line)) {
      if (frames_read_ == 0) throw InputError(path_, "the file holds no frame");
      return false;
    }
  } while (split_whitespace(line).empty());
  frame.first_line = line_;
  const auto count_tokens = split_whitespace(line);
  int count = 0;
  const auto [stop, error] =
      std::from_chars(count_tokens[0].data(), count_tokens[0].data() + count_tokens[0].size(), count);
  if (count_tokens.size() != 1 || error != std::errc() ||
      stop != count_tokens[0].data() + count_tokens[0].size() || count < 1) {
    fail(line_, "atom count '" + line + "' is not a positive integer");
  }
  if (atoms_ == ExtxyzAtoms::kFixed && atom_count_ >= 0 && count != atom_count_) {
    fail(line_, "frame has " + std::to_string(count) + " atoms, frame 0 has " + std::to_string(atom_count_) +
                    kMoleculeSetHint);
  }
  if (!read_line(line)) fail(line_, "file ends before the comment line of the frame");
  frame.energy.reset();
  frame.box.reset();
  parse_comment(line, frame);

  frame.species.resize(count);
  frame.positions.resize(count);
  frame.forces.resize(forces_.present ? count : 0);
  for (int i = 0; i < count; ++i) {
    if (!read_line(line)) {
      fail(line_, "file ends after " + std::to_string(i) + " of " + std::to_string(count) + " atom lines");
    }
    const auto tokens = split_whitespace(line);
    if (static_cast<int>(tokens.size()) != tokens_per_atom_) {
      fail(line_, "atom line has " + std::to_string(tokens.size()) + " columns, Properties says " +
                      std::to_string(tokens_per_atom_));
    }
    frame.species[i] = std::string(tokens[species_.first]);
    if (atomic_number(frame.species[i]) == 0)
      fail(line_, "species '" + frame.species[i] + "' is not an element");
    if (atoms_ == ExtxyzAtoms::kFixed && frames_read_ > 0 && frame.species[i] != first_species_[i]) {
      fail(line_, "species '" + frame.species[i] + "' of atom " + std::to_string(i + 1) +
                      " differs from frame 0's '" + first_species_[i] + "'" + kMoleculeSetHint);
    }
    const auto read_vec = [&](int first, const char* what, Vec3& out) {
      double v[3];
      for (int k = 0; k < 3; ++k) {
        const std::string problem = parse_real(tokens[first + k], std::string(what) + " " + "xyz"[k], v[k]);
        if (!problem.empty()) fail(line_, problem);
      }
      out = {v[0], v[1], v[2]};
    };
    read_vec(pos_.first, "position", frame.positions[i]);
    if (forces_.present) read_vec(forces_.first, "force", frame.forces[i]);
  }
  if (frames_read_ == 0) {
    atom_count_ = count;
    first_species_ = frame.species;
  }
  ++frames_read_;
  return true;
}

System extxyz_frame_system(const ExtxyzFrame& frame, const std::string& path) {
  System system = xyz_frame_system(frame, path);
  compute_atom_features(system);
  return system;
}

}  // namespace hemeplm
