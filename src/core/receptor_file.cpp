// Receptor files: format dispatch, (gzipped) file reading and the helpers both scans share.
#include "receptor_file.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gemmi/gz.hpp>
#include <gemmi/model.hpp>
#include <sstream>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {

constexpr double kAbsurdCoordinate = 1e5;  // Å; no biomolecular structure is this large
constexpr double kPi = 3.14159265358979323846;

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_whole_file(const std::string& path, bool gzipped) {
  if (gzipped) {
    try {
      gemmi::MaybeGzipped input(path);
      gemmi::CharArray buffer = input.uncompress_into_buffer();
      return std::string(buffer.data(), buffer.size());
    } catch (const std::exception& e) {
      throw InputError(path, "cannot decompress: " + std::string(e.what()));
    }
  }
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw InputError(path, "cannot open the file for reading");
  std::ostringstream content;
  content << stream.rdbuf();
  return content.str();
}

// Cosines of angles that are 90° in the file come out as 6e-17; snap them so boxes stay orthorhombic.
double snapped_cos(double degrees) {
  const double value = std::cos(degrees * kPi / 180.0);
  return std::abs(value) < 1e-12 ? 0.0 : value;
}

}  // namespace

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string ReceptorFile::record_label(int record) const {
  return records_are_rows ? "_atom_site row " + std::to_string(record) : line_record(record);
}

ReceptorFile read_receptor_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "file not found");
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "is a directory, not a structure file");
  const std::string lower = lowercase(path);
  const bool gzipped = ends_with(lower, ".gz");
  const std::string inner = gzipped ? lower.substr(0, lower.size() - 3) : lower;
  const bool is_pdb = ends_with(inner, ".pdb") || ends_with(inner, ".ent");
  const bool is_cif = ends_with(inner, ".cif") || ends_with(inner, ".mmcif");
  if (!is_pdb && !is_cif) {
    throw InputError(path, "unknown structure format (expected .pdb, .ent, .cif or .mmcif, optionally .gz)");
  }
  const std::string text = read_whole_file(path, gzipped);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw InputError(path, "file is empty");
  ReceptorFile file = is_pdb ? read_pdb_text(path, text) : read_mmcif_text(path, text);
  if (file.atoms.empty()) {
    throw InputError(path, is_pdb ? "no ATOM/HETATM records: the structure has no atoms"
                                  : "no _atom_site records: the structure has no atoms");
  }
  return file;
}

std::string parse_coordinate(std::string_view field, char axis, double& value) {
  const std::string name = std::string(1, axis) + " coordinate";
  const std::string text = trim(field);
  if (text.empty()) return name + " is blank";
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') ++begin;
  const auto [stop, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || stop != end || begin == end) return name + " '" + text + "' is not a number";
  if (!std::isfinite(value)) return name + " '" + text + "' is not finite";
  if (std::abs(value) > kAbsurdCoordinate) {
    return name + " '" + text + "' is absurd (more than 100000 Å from the origin)";
  }
  return {};
}

std::optional<Box> box_from_cell(double a, double b, double c, double alpha, double beta, double gamma) {
  if (!(a > 0 && b > 0 && c > 0)) return std::nullopt;
  if (a == 1.0 && b == 1.0 && c == 1.0) return std::nullopt;  // NMR/EM dummy CRYST1
  const double cos_alpha = snapped_cos(alpha), cos_beta = snapped_cos(beta), cos_gamma = snapped_cos(gamma);
  const double sin_gamma = std::sin(gamma * kPi / 180.0);
  if (!(sin_gamma > 1e-6)) return std::nullopt;
  Box box;
  box.vectors[0] = {a, 0, 0};
  box.vectors[1] = {b * cos_gamma, b * sin_gamma, 0};
  const double cy = (cos_alpha - cos_beta * cos_gamma) / sin_gamma;
  const double cz2 = 1.0 - cos_beta * cos_beta - cy * cy;
  if (!(cz2 > 1e-12)) return std::nullopt;
  box.vectors[2] = {c * cos_beta, c * cy, c * std::sqrt(cz2)};
  return box;
}

bool FirstConformerFilter::keep(const std::string& residue_position, char altloc) {
  if (altloc == '\0' || altloc == ' ') return true;
  const auto [it, inserted] = first_altloc_.emplace(residue_position, altloc);
  return inserted || it->second == altloc;
}

void GemmiGroupingTracker::place(const std::string& chain_id, const std::string& residue_key,
                                 ScannedAtom& scanned) {
  if (!started_ || chain_id != chain_id_) {
    started_ = true;
    chain_id_ = chain_id;
    ++chain_;
    residue_index_.clear();
    residue_atoms_.clear();
  }
  const auto [it, inserted] = residue_index_.emplace(residue_key, static_cast<int>(residue_atoms_.size()));
  if (inserted) residue_atoms_.push_back(0);
  scanned.gemmi_chain = chain_;
  scanned.gemmi_residue = it->second;
  scanned.gemmi_atom = residue_atoms_[it->second]++;
}

std::vector<ReceptorAtom> merge_with_gemmi(const std::string& path, const gemmi::Model& model,
                                           std::vector<ScannedAtom>& scanned, const std::vector<bool>& kept,
                                           bool records_are_rows) {
  std::vector<ReceptorAtom> atoms;
  atoms.reserve(scanned.size());
  for (std::size_t i = 0; i < scanned.size(); ++i) {
    ScannedAtom& s = scanned[i];
    const gemmi::Atom* atom = nullptr;
    if (s.gemmi_chain < static_cast<int>(model.chains.size())) {
      const gemmi::Chain& chain = model.chains[s.gemmi_chain];
      if (s.gemmi_residue < static_cast<int>(chain.residues.size())) {
        const gemmi::Residue& residue = chain.residues[s.gemmi_residue];
        if (s.gemmi_atom < static_cast<int>(residue.atoms.size())) atom = &residue.atoms[s.gemmi_atom];
      }
    }
    const std::string record =
        records_are_rows ? "_atom_site row " + std::to_string(s.atom.record) : line_record(s.atom.record);
    if (atom == nullptr || trim(atom->name) != s.atom.name) {
      throw InputError(path, record, "gemmi read this atom record differently from the line itself");
    }
    if (!kept[i]) continue;
    s.atom.position = {atom->pos.x, atom->pos.y, atom->pos.z};
    atoms.push_back(std::move(s.atom));
  }
  return atoms;
}

}  // namespace hemeplm
