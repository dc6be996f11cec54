// PDB files: a line-level validation scan of our own, then gemmi as the parser of record.
//
// gemmi accepts truncated lines, garbled numbers and duplicate atoms silently, so every ATOM/HETATM
// line is checked here first (length, numeric finite coordinates of sane size, a known element,
// duplicates). The scan also fixes the atom order to the file order (gemmi groups a residue's records
// within a chain) and keeps each atom's line number for messages.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <gemmi/pdb.hpp>
#include <unordered_map>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "receptor_file.hpp"
#include "residue_kinds.hpp"

namespace hemeplm {
namespace {

namespace pdb = gemmi::pdb_impl;

// The first characters of a line, NUL-padded so that gemmi's fixed-width record tests stay in bounds.
struct RecordName {
  char text[8] = {0};
  explicit RecordName(std::string_view line) {
    for (std::size_t i = 0; i < 6 && i < line.size(); ++i) text[i] = line[i];
  }
  bool is(const char* record) const { return pdb::is_record_type(text, record); }
  bool is3(const char* record) const { return pdb::is_record_type3(text, record); }
};

std::string column(std::string_view line, std::size_t first, std::size_t count) {
  if (first >= line.size()) return {};
  return trim(line.substr(first, count));
}

struct AtomLine {
  std::string_view line;
  int number = 0;
};

class PdbScanner {
 public:
  PdbScanner(const std::string& path) : path_(path) {}

  ReceptorFile scan(std::string_view text);

 private:
  [[noreturn]] void fail(int line, const std::string& problem) const {
    throw InputError(path_, line_record(line), problem);
  }
  ScannedAtom parse_atom(const AtomLine& atom_line) const;
  int element_of(const AtomLine& atom_line, const std::string& residue_name) const;
  void check_cryst1(const AtomLine& cryst1) const;
  void resolve_conect(ReceptorFile& file, const std::vector<int>& kept_serials) const;

  std::string path_;
  std::vector<AtomLine> conect_lines_;
};

ScannedAtom PdbScanner::parse_atom(const AtomLine& atom_line) const {
  const std::string_view line = atom_line.line;
  if (line.size() < 54) {
    fail(atom_line.number, "ATOM/HETATM record is truncated: " + std::to_string(line.size()) +
                               " columns, but the coordinates need columns 31-54");
  }
  ScannedAtom scanned;
  ReceptorAtom& atom = scanned.atom;
  atom.record = atom_line.number;
  double xyz[3] = {0, 0, 0};
  for (int axis = 0; axis < 3; ++axis) {
    const std::string problem = parse_coordinate(line.substr(30 + 8 * axis, 8), "xyz"[axis], xyz[axis]);
    if (!problem.empty()) fail(atom_line.number, problem);
  }
  atom.position = {xyz[0], xyz[1], xyz[2]};
  atom.name = column(line, 12, 4);
  if (atom.name.empty()) fail(atom_line.number, "atom name (columns 13-16) is blank");
  scanned.altloc = line[16] == ' ' ? '\0' : line[16];
  // CHARMM writes four-character residue names over column 21 ("TIP3X"): keep the full name.
  const std::string four = std::string(line.substr(17, 4));
  if (line[20] != ' ' && is_four_character_residue_name(four)) {
    atom.residue_name = four;
    atom.chain_name = column(line, 21, 1);
  } else {
    atom.residue_name = column(line, 17, 3);
    atom.chain_name = column(line, 20, 2);
  }
  const gemmi::SeqId seqid = pdb::read_seq_id(line.data() + 22);
  atom.seq = seqid.num.value;
  atom.insertion = seqid.icode == ' ' || seqid.icode == '\0' ? ' ' : seqid.icode;
  atom.hetatm = std::toupper(static_cast<unsigned char>(line[0])) == 'H';
  atom.atomic_number = element_of(atom_line, atom.residue_name);
  if (line.size() >= 80) {
    const char digit = line[78], sign = line[79];
    if (std::isdigit(static_cast<unsigned char>(digit)) && (sign == '+' || sign == '-')) {
      atom.formal_charge = (digit - '0') * (sign == '-' ? -1 : 1);
    } else if (std::isdigit(static_cast<unsigned char>(sign)) && (digit == '+' || digit == '-')) {
      atom.formal_charge = (sign - '0') * (digit == '-' ? -1 : 1);
    } else if (digit != ' ' || sign != ' ') {
      fail(atom_line.number,
           "charge '" + std::string(line.substr(78, 2)) + "' in columns 79-80 is not like 2+ or 1-");
    }
  }
  return scanned;
}

int PdbScanner::element_of(const AtomLine& atom_line, const std::string& residue_name) const {
  const std::string_view line = atom_line.line;
  const std::string symbol = column(line, 76, 2);
  if (!symbol.empty()) {
    const int z = atomic_number(symbol);
    if (z == 0) fail(atom_line.number, "unknown element '" + symbol + "' in columns 77-78");
    return z;
  }
  if (const int ion = ion_residue_element(residue_name); ion != 0 && column(line, 12, 4) == residue_name) {
    return ion;  // CHARMM/Amber ion residues ("SOD", "CLA", "K+") name the atom like the residue
  }
  const int z = infer_element_from_atom_name(line.substr(12, 4), has_polymer_atom_names(residue_name));
  if (z == 0) {
    fail(atom_line.number, "cannot tell the element of atom '" + column(line, 12, 4) + "' of residue " +
                               residue_name + ": columns 77-78 are blank and the name fits no element");
  }
  return z;
}

void PdbScanner::check_cryst1(const AtomLine& cryst1) const {
  const std::string_view line = cryst1.line;
  if (line.size() < 54) fail(cryst1.number, "CRYST1 record is truncated: the cell needs columns 7-54");
  static constexpr std::size_t kStart[6] = {6, 15, 24, 33, 40, 47};
  static constexpr std::size_t kWidth[6] = {9, 9, 9, 7, 7, 7};
  static constexpr const char* kName[6] = {"a", "b", "c", "alpha", "beta", "gamma"};
  for (int i = 0; i < 6; ++i) {
    const std::string text = column(line, kStart[i], kWidth[i]);
    double value = 0;
    const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || stop != text.data() + text.size() || !std::isfinite(value) ||
        value <= 0 || (i >= 3 && value >= 180)) {
      fail(cryst1.number, std::string("CRYST1 cell ") + kName[i] + " '" + text + "' is not a valid " +
                              (i < 3 ? "length" : "angle"));
    }
  }
}

void PdbScanner::resolve_conect(ReceptorFile& file, const std::vector<int>& kept_serials) const {
  // Serials can repeat (reduce writes 0 for every added H): such serials are ambiguous and skipped.
  std::unordered_map<int, int> atom_of_serial;
  for (int i = 0; i < static_cast<int>(kept_serials.size()); ++i) {
    const auto [it, inserted] = atom_of_serial.emplace(kept_serials[i], i);
    if (!inserted) it->second = -1;
  }
  for (const AtomLine& conect : conect_lines_) {
    const std::string_view line = conect.line;
    if (line.size() < 11) continue;
    const auto from = atom_of_serial.find(pdb::read_serial(line.data() + 6));
    if (from == atom_of_serial.end() || from->second < 0) continue;
    for (std::size_t start = 11; start + 5 <= line.size() && start < 31; start += 5) {
      if (column(line, start, 5).empty()) continue;
      const auto to = atom_of_serial.find(pdb::read_serial(line.data() + start));
      if (to == atom_of_serial.end() || to->second < 0 || to->second == from->second) continue;
      file.conect_pairs.push_back({std::min(from->second, to->second), std::max(from->second, to->second)});
    }
  }
  std::sort(file.conect_pairs.begin(), file.conect_pairs.end());
  file.conect_pairs.erase(std::unique(file.conect_pairs.begin(), file.conect_pairs.end()),
                          file.conect_pairs.end());
}

ReceptorFile PdbScanner::scan(std::string_view text) {
  std::vector<ScannedAtom> first_model;
  std::vector<bool> kept;
  std::vector<int> kept_serials;
  std::unordered_map<std::string, int> line_of_atom;  // duplicate detection within one gemmi chain part
  std::string duplicate_scope_chain;
  FirstConformerFilter conformers;
  GemmiGroupingTracker grouping;
  bool first_model_done = false;
  bool after_ter = false;
  std::string previous_chain;

  std::size_t position = 0;
  int number = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    const RecordName record(line);
    if (record.is("ATOM") || record.is("HETATM")) {
      ScannedAtom scanned = parse_atom({line, number});
      // gemmi starts a new chain part, with a fresh residue map, whenever the chain id changes; the
      // same residue id in a later part is another residue (e.g. one-water chains whose ids wrap).
      const std::string gemmi_chain = column(line, 20, 2);
      if (gemmi_chain != duplicate_scope_chain) {
        line_of_atom.clear();
        duplicate_scope_chain = gemmi_chain;
      }
      std::string key(line.substr(12, 15));  // name, altloc, residue name, chain, number, icode
      const std::string segment = column(line, 72, 4);
      key += '|' + segment;
      const auto [it, inserted] = line_of_atom.emplace(key, number);
      if (!inserted) {
        const ReceptorAtom& a = scanned.atom;
        fail(number, "duplicate atom " + a.name + " of " + a.residue_name + " " + std::to_string(a.seq) +
                         (a.chain_name.empty() ? "" : " chain " + a.chain_name) + " (also at line " +
                         std::to_string(it->second) + ")");
      }
      if (first_model_done) continue;
      const gemmi::SeqId seqid = pdb::read_seq_id(line.data() + 22);
      grouping.place(
          gemmi_chain,
          std::to_string(seqid.num.value) + seqid.icode + '|' + column(line, 17, 3) + '|' + segment, scanned);
      const bool keep = conformers.keep(gemmi_chain + '|' + std::string(line.substr(22, 5)) + '|' + segment,
                                        scanned.altloc);
      kept.push_back(keep);
      if (keep) {
        scanned.atom.starts_chain =
            kept_serials.empty() || after_ter || scanned.atom.chain_name != previous_chain;
        after_ter = false;
        previous_chain = scanned.atom.chain_name;
        kept_serials.push_back(pdb::read_serial(line.data() + 6));
      }
      first_model.push_back(std::move(scanned));
    } else if (record.is("MODEL") || record.is("ENDMDL")) {
      if (!first_model.empty()) first_model_done = true;
      line_of_atom.clear();
      duplicate_scope_chain.clear();
    } else if (record.is3("TER")) {
      after_ter = true;
    } else if (record.is("CONECT")) {
      conect_lines_.push_back({line, number});
    } else if (record.is("CRYST1")) {
      check_cryst1({line, number});
    } else if (record.is3("END")) {
      break;  // gemmi stops here too
    }
  }

  gemmi::Structure structure;
  try {
    structure = gemmi::read_pdb_from_memory(text.data(), text.size(), path_);
  } catch (const std::exception& e) {
    const std::string message = one_line(e.what());
    const std::string prefix = "Problem in line ";
    if (message.compare(0, prefix.size(), prefix) == 0) {
      const std::size_t colon = message.find(':');
      if (colon != std::string::npos) {
        throw InputError(path_, "line " + message.substr(prefix.size(), colon - prefix.size()),
                         trim(message.substr(colon + 1)));
      }
    }
    throw InputError(path_, message);
  }
  ReceptorFile file;
  file.model_count = static_cast<int>(structure.models.size());
  if (first_model.empty()) return file;
  file.atoms = merge_with_gemmi(path_, structure.models.front(), first_model, kept, false);
  const gemmi::UnitCell& cell = structure.cell;
  file.box = box_from_cell(cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma);
  resolve_conect(file, kept_serials);
  return file;
}

}  // namespace

ReceptorFile read_pdb_text(const std::string& path, std::string_view text) {
  return PdbScanner(path).scan(text);
}

}  // namespace hemeplm
