// Ligand files read with RDKit. We split the file into records ourselves and pre-check each record's
// text (counts, truncation, coordinates) so that every error names the file line; RDKit then parses
// one record at a time, silenced, and its exceptions are turned into InputError with file lines.
#include "ligand_reader.hpp"

#include <GraphMol/Conformer.h>
#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/RWMol.h>
#include <GraphMol/SanitException.h>
#include <RDGeneral/FileParseException.h>
#include <RDGeneral/Invariant.h>
#include <RDGeneral/RDLog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string_view>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {

constexpr double kMaxAbsCoordinate = 1e5;  // Å; anything larger is a unit or format mistake

enum class Format { kSdf, kMol2 };

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view field(std::string_view line, std::size_t pos, std::size_t len) {
  return pos >= line.size() ? std::string_view() : line.substr(pos, len);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::optional<double> parse_double(std::string_view text) {
  const std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::optional<int> parse_int(std::string_view text) {
  const std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || v < 0 || v > 10'000'000) return std::nullopt;
  return static_cast<int>(v);
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

/// The whole file as lines (CR stripped); lines[k] is file line k+1.
struct TextFile {
  std::string path;
  std::string text;
  std::vector<std::string_view> lines;
};

TextFile load_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open ligand file (missing or unreadable)");
  TextFile f{path, std::string(std::istreambuf_iterator<char>(in), {}), {}};
  if (trim(f.text).empty()) throw InputError(path, "file is empty");
  std::string_view rest(f.text);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f.lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return f;
}

/// One record's lines [begin, end) (0-based file line indices) and what the pre-scan learnt.
struct RecordText {
  int begin = 0, end = 0;
  std::vector<int> atom_lines;           ///< 1-based file lines
  std::vector<std::string> atom_tokens;  ///< element symbol (SDF) or atom name (MOL2) as written
  std::vector<std::string> atom_names;   ///< MOL2 only
  int first_bond_line = 0;               ///< V2000 only: 1-based line of the first bond, else 0
};

class RecordError {
 public:
  RecordError(const TextFile& f, const RecordText& r) : file_(f), rec_(r) {}
  [[noreturn]] void at(int line, const std::string& problem) const {
    const std::string title(trim(file_.lines[rec_.begin]));
    const std::string where = title.empty() ? "" : " (molecule '" + title + "')";
    throw InputError(file_.path, line_record(line), problem + where);
  }
  [[noreturn]] void at_record(const std::string& problem) const { at(rec_.begin + 1, problem); }

 private:
  const TextFile& file_;
  const RecordText& rec_;
};

void check_coordinate(const RecordError& err, int line, std::string_view text) {
  const auto v = parse_double(text);
  const std::string shown(trim(text));
  if (!v) err.at(line, "coordinate '" + shown + "' is not a number");
  if (!std::isfinite(*v)) err.at(line, "coordinate '" + shown + "' is not finite");
  if (std::abs(*v) > kMaxAbsCoordinate)
    err.at(line, "coordinate " + shown + " is beyond 1e5 Å: not a molecular structure");
}

// --- SDF ---------------------------------------------------------------------------------------

void prescan_v2000(const TextFile& f, RecordText& r) {
  const RecordError err(f, r);
  const int counts_idx = r.begin + 3;
  const std::string_view counts = f.lines[counts_idx];
  const auto natoms = parse_int(field(counts, 0, 3));
  const auto nbonds = parse_int(field(counts, 3, 3));
  if (!natoms || !nbonds)
    err.at(counts_idx + 1, "counts line '" + std::string(trim(counts)) + "' is not valid");
  const int have = r.end - (counts_idx + 1);
  if (have < *natoms + *nbonds) {
    const int atoms_seen = std::min(have, *natoms);
    err.at(r.end, "record is truncated: the counts line says " + std::to_string(*natoms) + " atoms and " +
                      std::to_string(*nbonds) + " bonds, but it ends after " + std::to_string(atoms_seen) +
                      " atom lines and " + std::to_string(std::max(0, have - *natoms)) + " bond lines");
  }
  for (int i = 0; i < *natoms; ++i) {
    const int idx = counts_idx + 1 + i;
    const std::string_view line = f.lines[idx];
    if (line.size() < 34) err.at(idx + 1, "atom line is too short: '" + std::string(trim(line)) + "'");
    for (int k = 0; k < 3; ++k) check_coordinate(err, idx + 1, field(line, 10 * k, 10));
    r.atom_lines.push_back(idx + 1);
    r.atom_tokens.emplace_back(trim(field(line, 31, 3)));
  }
  r.first_bond_line = counts_idx + 2 + *natoms;
  for (int i = 0; i < *nbonds; ++i) {
    const int idx = counts_idx + 1 + *natoms + i;
    const std::string_view line = f.lines[idx];
    const auto a = parse_int(field(line, 0, 3)), b = parse_int(field(line, 3, 3));
    const auto type = parse_int(field(line, 6, 3));
    if (!a || !b || !type) err.at(idx + 1, "bond line '" + std::string(trim(line)) + "' is not valid");
    for (int end : {*a, *b}) {
      if (end < 1 || end > *natoms)
        err.at(idx + 1,
               "bond refers to atom " + std::to_string(end) + ", outside 1.." + std::to_string(*natoms));
    }
  }
}

/// V3000 atom block: "M  V30 BEGIN ATOM" ... "M  V30 END ATOM"; a trailing '-' continues a line.
void prescan_v3000(const TextFile& f, RecordText& r) {
  const RecordError err(f, r);
  std::optional<int> declared;
  bool in_atoms = false, atoms_done = false;
  for (int idx = r.begin + 4; idx < r.end && !atoms_done; ++idx) {
    const std::string_view line = f.lines[idx];
    if (!starts_with(line, "M  V30 ")) continue;
    const std::string_view body = trim(line.substr(7));
    if (starts_with(body, "COUNTS")) {
      declared = parse_int(split_ws(body).size() > 1 ? split_ws(body)[1] : "");
      if (!declared) err.at(idx + 1, "V3000 COUNTS line '" + std::string(trim(line)) + "' is not valid");
    } else if (starts_with(body, "BEGIN ATOM")) {
      in_atoms = true;
    } else if (starts_with(body, "END ATOM")) {
      atoms_done = true;
    } else if (in_atoms) {
      const int first = idx;
      std::string logical(body);
      while (!logical.empty() && logical.back() == '-' && idx + 1 < r.end) {
        logical.pop_back();
        const std::string_view next = f.lines[++idx];
        logical += std::string(trim(next.substr(std::min<std::size_t>(7, next.size()))));
      }
      const auto tok = split_ws(logical);
      if (tok.size() < 5)
        err.at(first + 1, "V3000 atom line is too short: '" + std::string(trim(line)) + "'");
      for (int k = 2; k < 5; ++k) check_coordinate(err, first + 1, tok[k]);
      r.atom_lines.push_back(first + 1);
      r.atom_tokens.emplace_back(tok[1]);
    }
  }
  if (!declared) err.at_record("V3000 record has no 'M  V30 COUNTS' line");
  if (!atoms_done || static_cast<int>(r.atom_lines.size()) != *declared) {
    err.at(r.end, "record is truncated: the COUNTS line says " + std::to_string(*declared) +
                      " atoms, but the atom block has " + std::to_string(r.atom_lines.size()) +
                      (atoms_done ? "" : " and no 'END ATOM' line"));
  }
}

std::vector<RecordText> split_sdf(const TextFile& f) {
  std::vector<RecordText> out;
  const int n = static_cast<int>(f.lines.size());
  int begin = 0;
  for (int i = 0; i <= n; ++i) {
    if (i < n && !starts_with(f.lines[i], "$$$$")) continue;
    bool blank = true;
    for (int k = begin; k < i && blank; ++k) blank = trim(f.lines[k]).empty();
    if (!blank) {
      RecordText r;
      r.begin = begin;
      // The ctab ends at "M  END"; data items after it are not RDKit's business.
      r.end = i;
      for (int k = begin; k < i; ++k) {
        if (starts_with(f.lines[k], "M  END")) {
          r.end = k + 1;
          break;
        }
      }
      out.push_back(std::move(r));
    }
    begin = i + 1;
  }
  return out;
}

// --- MOL2 --------------------------------------------------------------------------------------

std::vector<RecordText> split_mol2(const TextFile& f) {
  std::vector<RecordText> out;
  const int n = static_cast<int>(f.lines.size());
  for (int i = 0; i < n; ++i) {
    if (!starts_with(trim(f.lines[i]), "@<TRIPOS>MOLECULE")) continue;
    if (!out.empty()) out.back().end = i;
    RecordText r;
    r.begin = i;
    r.end = n;
    out.push_back(std::move(r));
  }
  return out;
}

void prescan_mol2(const TextFile& f, RecordText& r) {
  const RecordError err(f, r);
  if (r.end - r.begin < 3) err.at(r.end, "record is truncated: no counts line after @<TRIPOS>MOLECULE");
  const auto counts = split_ws(f.lines[r.begin + 2]);
  const auto declared = parse_int(counts.empty() ? "" : counts[0]);
  if (!declared)
    err.at(r.begin + 3, "counts line '" + std::string(trim(f.lines[r.begin + 2])) + "' is not valid");
  bool in_atoms = false;
  for (int idx = r.begin + 1; idx < r.end; ++idx) {
    const std::string_view line = trim(f.lines[idx]);
    if (starts_with(line, "@<TRIPOS>")) {
      in_atoms = starts_with(line, "@<TRIPOS>ATOM");
      continue;
    }
    if (!in_atoms || line.empty() || line.front() == '#') continue;
    const auto tok = split_ws(line);
    if (tok.size() < 6) err.at(idx + 1, "atom line is too short: '" + std::string(line) + "'");
    for (int k = 2; k < 5; ++k) check_coordinate(err, idx + 1, tok[k]);
    r.atom_lines.push_back(idx + 1);
    r.atom_tokens.emplace_back(tok[5]);
    r.atom_names.emplace_back(tok[1]);
  }
  if (static_cast<int>(r.atom_lines.size()) != *declared) {
    err.at(r.end, "record is truncated: the counts line says " + std::to_string(*declared) +
                      " atoms, but the @<TRIPOS>ATOM section has " + std::to_string(r.atom_lines.size()));
  }
}

// --- RDKit ---------------------------------------------------------------------------------------

/// RDKit messages sometimes say "on line N", counted from the start of the text we gave it: the
/// line becomes the record of our message and leaves the text.
std::string take_rdkit_line(const std::string& message, int first_line, int* file_line) {
  static const std::regex kLine(R"(\s*(?:on |at )?line (\d+))");
  std::smatch m;
  if (!std::regex_search(message, m, kLine)) return message;
  *file_line = std::stoi(m[1]) + first_line - 1;
  return std::string(m.prefix()) + std::string(m.suffix());
}

std::unique_ptr<RDKit::RWMol> parse_with_rdkit(const TextFile& f, const RecordText& r, Format format) {
  const RecordError err(f, r);
  std::string block;
  for (int k = r.begin; k < r.end; ++k) block.append(f.lines[k]).push_back('\n');
  try {
    // Sanitised below, by us, so that a failure can name the atom's line.
    return std::unique_ptr<RDKit::RWMol>(format == Format::kSdf
                                             ? RDKit::MolBlockToMol(block, false, false, true)
                                             : RDKit::Mol2BlockToMol(block, false, false));
  } catch (const RDKit::FileParseException& e) {
    int line = r.begin + 1;
    const std::string msg = take_rdkit_line(e.what(), r.begin + 1, &line);
    static const std::regex kElement(R"(Element '([^']*)' not found)");
    std::smatch m;
    if (std::regex_search(msg, m, kElement)) {
      for (std::size_t i = 0; i < r.atom_tokens.size(); ++i)
        if (r.atom_tokens[i] == m[1].str())
          err.at(r.atom_lines[i], "unknown element symbol '" + m[1].str() + "'");
    }
    err.at(line, "cannot parse record: " + msg);
  } catch (const Invar::Invariant& e) {
    err.at_record("RDKit rejected the record (" + std::string(e.what()) + ": " + e.getExpression() + ")");
  } catch (const std::exception& e) {
    err.at_record(std::string("cannot parse record: ") + e.what());
  }
}

void sanitize_or_throw(RDKit::RWMol& mol, const RecordText& r, const RecordError& err) {
  try {
    RDKit::MolOps::sanitizeMol(mol);
    RDKit::MolOps::Kekulize(mol, true);  // bonds stored as 1/2/3 keep where the H of [nH] sits
  } catch (const RDKit::AtomSanitizeException& e) {
    const unsigned i = e.getAtomIdx();
    err.at(i < r.atom_lines.size() ? r.atom_lines[i] : r.begin + 1,
           "chemically invalid (atom " + std::to_string(i + 1) + "): " + e.what());
  } catch (const RDKit::KekulizeException& e) {
    const auto& idx = e.getAtomIndices();
    const int line = !idx.empty() && idx[0] < r.atom_lines.size() ? r.atom_lines[idx[0]] : r.begin + 1;
    err.at(line, std::string("chemically invalid: ") + e.what());
  } catch (const RDKit::MolSanitizeException& e) {
    err.at_record(std::string("chemically invalid: ") + e.what());
  } catch (const Invar::Invariant& e) {
    err.at_record("chemically invalid (" + std::string(e.what()) + ": " + e.getExpression() + ")");
  }
}

int bond_order(const RDKit::Bond& b, const RecordText& r, const RecordError& err) {
  switch (b.getBondType()) {
    case RDKit::Bond::SINGLE:
      return 1;
    case RDKit::Bond::DOUBLE:
      return 2;
    case RDKit::Bond::TRIPLE:
      return 3;
    case RDKit::Bond::AROMATIC:
      return Bond::kAromatic;
    default:
      break;
  }
  const int line = r.first_bond_line > 0 ? r.first_bond_line + static_cast<int>(b.getIdx()) : r.begin + 1;
  err.at(line, "unsupported bond type between atoms " + std::to_string(b.getBeginAtomIdx() + 1) + " and " +
                   std::to_string(b.getEndAtomIdx() + 1) + " (only single, double, triple, aromatic)");
}

LigandRecord to_record(const TextFile& f, const RecordText& r, Format format) {
  const RecordError err(f, r);
  std::unique_ptr<RDKit::RWMol> mol = parse_with_rdkit(f, r, format);
  if (!mol) err.at_record("RDKit could not read the record");
  const int n = static_cast<int>(mol->getNumAtoms());
  if (n == 0) err.at_record("molecule has no atoms");
  if (n != static_cast<int>(r.atom_lines.size()))
    err.at_record("RDKit read " + std::to_string(n) + " atoms, the atom block has " +
                  std::to_string(r.atom_lines.size()));
  for (int i = 0; i < n; ++i) {
    if (mol->getAtomWithIdx(i)->getAtomicNum() == 0)
      err.at(r.atom_lines[i],
             "unknown element symbol '" + r.atom_tokens[i] + "' (query and dummy atoms are not allowed)");
  }
  if (mol->getNumConformers() == 0) err.at_record("molecule has no coordinates");
  const RDKit::Conformer& conf = mol->getConformer();

  LigandRecord rec;
  rec.title = std::string(
      trim(format == Format::kSdf ? f.lines[r.begin] : (r.begin + 1 < r.end ? f.lines[r.begin + 1] : "")));
  rec.first_line = r.begin + 1;
  bool all_z_zero = true;
  for (int i = 0; i < n; ++i) {
    const RDGeom::Point3D& p = conf.getAtomPos(i);
    const Vec3 v{p.x, p.y, p.z};
    if (!is_finite(v)) err.at(r.atom_lines[i], "coordinate is not finite (NaN or infinity)");
    if (std::abs(v.x) > kMaxAbsCoordinate || std::abs(v.y) > kMaxAbsCoordinate ||
        std::abs(v.z) > kMaxAbsCoordinate)
      err.at(r.atom_lines[i], "coordinate beyond 1e5 Å: not a molecular structure");
    all_z_zero = all_z_zero && v.z == 0.0;
    rec.positions.push_back(v);
  }
  if (format == Format::kSdf && f.lines[r.begin + 1].size() >= 22 &&
      field(f.lines[r.begin + 1], 20, 2) == "2D")
    err.at(r.begin + 2, "the header says the coordinates are 2D; a 3D structure is needed");
  if (n > 1 && all_z_zero) err.at_record("all z coordinates are 0: the molecule has no 3D coordinates");

  sanitize_or_throw(*mol, r, err);
  for (int i = 0; i < n; ++i) {
    const RDKit::Atom* a = mol->getAtomWithIdx(i);
    rec.atomic_numbers.push_back(a->getAtomicNum());
    rec.formal_charges.push_back(a->getFormalCharge());
    rec.atom_lines.push_back(r.atom_lines[i]);
    rec.atom_names.push_back(format == Format::kMol2 ? r.atom_names[i]
                                                     : a->getSymbol() + std::to_string(i + 1));
  }
  for (const RDKit::Bond* b : mol->bonds()) {
    const int a = static_cast<int>(b->getBeginAtomIdx()), c = static_cast<int>(b->getEndAtomIdx());
    rec.bonds.push_back({std::min(a, c), std::max(a, c), bond_order(*b, r, err)});
  }
  std::sort(rec.bonds.begin(), rec.bonds.end(),
            [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
  return rec;
}

Format format_of(const std::string& path) {
  const std::size_t dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "sdf" || ext == "sd" || ext == "mol") return Format::kSdf;
  if (ext == "mol2") return Format::kMol2;
  throw InputError(path, "unknown ligand file extension '." + ext + "' (expected .sdf, .sd, .mol or .mol2)");
}

}  // namespace

std::vector<LigandRecord> read_ligand_file(const std::string& path, const LigandRecordVisitor& visit) {
  const Format format = format_of(path);
  const TextFile file = load_text(path);
  const RDLog::LogStateSetter silence_rdkit;  // errors reach the user as InputError, not on stderr
  std::vector<RecordText> texts = format == Format::kSdf ? split_sdf(file) : split_mol2(file);
  if (texts.empty()) {
    throw InputError(path, format == Format::kSdf ? "no molecules found"
                                                  : "no molecules found (no @<TRIPOS>MOLECULE line)");
  }
  std::vector<LigandRecord> records;
  records.reserve(texts.size());
  for (RecordText& r : texts) {
    if (format == Format::kSdf) {
      if (r.end - r.begin < 4) RecordError(file, r).at(r.end, "record is truncated: it has no counts line");
      if (file.lines[r.begin + 3].find("V3000") != std::string_view::npos)
        prescan_v3000(file, r);
      else
        prescan_v2000(file, r);  // also when the counts line lacks the "V2000" tag
    } else {
      prescan_mol2(file, r);
    }
    records.push_back(to_record(file, r, format));
    if (visit && !visit(records.back(), static_cast<int>(records.size()) - 1)) break;
  }
  return records;
}

}  // namespace hemeplm
