// mmCIF files: gemmi parses the CIF syntax and builds the structure; the _atom_site rows are
// validated here first (gemmi turns "12.3ab" or "?" into numbers silently) and give the file order.
#include <array>
#include <cctype>
#include <gemmi/cif.hpp>
#include <gemmi/mmcif.hpp>
#include <unordered_map>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "receptor_file.hpp"
#include "residue_kinds.hpp"

namespace hemeplm {
namespace {

namespace cif = gemmi::cif;

// The _atom_site columns gemmi reads; the ones without '?' are required (gemmi ignores the whole
// table when one is missing, so we say which).
enum Column {
  kId = 0,
  kSymbol,
  kLabelAtomId,
  kAltId,
  kLabelCompId,
  kLabelAsymId,
  kLabelSeqId,
  kInsCode,
  kX,
  kY,
  kZ,
  kOccupancy,
  kBiso,
  kCharge,
  kAuthSeqId,
  kAuthCompId,
  kAuthAsymId,
  kAuthAtomId,
  kModelNum,
};
const std::vector<std::string> kColumns = {"id",
                                           "type_symbol",
                                           "?label_atom_id",
                                           "label_alt_id",
                                           "?label_comp_id",
                                           "label_asym_id",
                                           "?label_seq_id",
                                           "?pdbx_PDB_ins_code",
                                           "Cartn_x",
                                           "Cartn_y",
                                           "Cartn_z",
                                           "occupancy",
                                           "B_iso_or_equiv",
                                           "?pdbx_formal_charge",
                                           "auth_seq_id",
                                           "?auth_comp_id",
                                           "?auth_asym_id",
                                           "?auth_atom_id",
                                           "?pdbx_PDB_model_num"};

// "name:12:5: message" from PEGTL -> record "line 12" and the message.
[[noreturn]] void throw_syntax_error(const std::string& path, const std::string& what) {
  const std::string message = one_line(what);
  if (message.compare(0, path.size() + 1, path + ":") == 0) {
    std::size_t pos = path.size() + 1;
    std::size_t digits = pos;
    while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits]))) ++digits;
    if (digits > pos) {
      const std::string line = message.substr(pos, digits - pos);
      std::size_t rest = message.find(": ", digits);
      rest = rest == std::string::npos ? digits : rest + 2;
      throw InputError(path, "line " + line, "mmCIF syntax error: " + message.substr(rest));
    }
  }
  throw InputError(path, "mmCIF syntax error: " + message);
}

std::string value_or_blank(const cif::Table::Row& row, int column) {
  return row.has(column) ? cif::as_string(row[column]) : std::string();
}

}  // namespace

ReceptorFile read_mmcif_text(const std::string& path, std::string_view text) {
  cif::Document document;
  try {
    document = cif::read_memory(text.data(), text.size(), path.c_str());
  } catch (const std::exception& e) {
    throw_syntax_error(path, e.what());
  }
  if (document.blocks.empty()) throw InputError(path, "no data_ block: not an mmCIF file");
  cif::Block& block = document.blocks.front();
  if (!block.has_tag("_atom_site.Cartn_x")) {
    throw InputError(path, "no _atom_site records: the structure has no atoms");
  }
  for (const std::string& column : kColumns) {
    if (column[0] != '?' && !block.has_tag("_atom_site." + column)) {
      throw InputError(path, "_atom_site." + column, "required column is missing");
    }
  }
  cif::Table table = block.find("_atom_site.", kColumns);
  const int atom_id = table.first_of(kAuthAtomId, kLabelAtomId);
  const int comp_id = table.first_of(kAuthCompId, kLabelCompId);
  const int asym_id = table.first_of(kAuthAsymId, kLabelAsymId);
  if (!table.has_column(atom_id) || !table.has_column(comp_id)) {
    throw InputError(path, "_atom_site",
                     "needs auth_atom_id or label_atom_id, and auth_comp_id or label_comp_id");
  }

  std::vector<ScannedAtom> first_model;
  std::vector<bool> kept;
  std::unordered_map<std::string, int> row_of_atom;
  FirstConformerFilter conformers;
  GemmiGroupingTracker grouping;
  std::string first_model_name, current_model, previous_chain;
  int row_number = 0;
  int kept_count = 0;
  for (auto row : table) {
    ++row_number;
    const std::string record = "_atom_site row " + std::to_string(row_number);
    auto fail = [&](const std::string& problem) { throw InputError(path, record, problem); };
    ScannedAtom scanned;
    ReceptorAtom& atom = scanned.atom;
    atom.record = row_number;
    double xyz[3] = {0, 0, 0};
    for (int axis = 0; axis < 3; ++axis) {
      const std::string& raw = row[kX + axis];
      std::string value = cif::is_null(raw) ? std::string() : cif::as_string(raw);
      if (const std::size_t esd = value.find('('); esd != std::string::npos && value.back() == ')') {
        value.resize(esd);  // "12.345(6)": standard uncertainty
      }
      const std::string problem = parse_coordinate(value, "xyz"[axis], xyz[axis]);
      if (!problem.empty()) fail(problem);
    }
    atom.position = {xyz[0], xyz[1], xyz[2]};
    atom.name = value_or_blank(row, atom_id);
    atom.residue_name = value_or_blank(row, comp_id);
    atom.chain_name = value_or_blank(row, asym_id);
    if (atom.name.empty() || cif::is_null(row[atom_id])) fail("atom name is missing");
    const std::string seq_text = cif::as_string(row[kAuthSeqId]);
    try {
      std::size_t used = 0;
      atom.seq = std::stoi(seq_text, &used);
      if (used != seq_text.size()) throw std::invalid_argument(seq_text);
    } catch (const std::exception&) {
      fail("auth_seq_id '" + seq_text + "' is not an integer");
    }
    const std::string icode = row.has2(kInsCode) ? cif::as_string(row[kInsCode]) : std::string();
    atom.insertion = icode.empty() ? ' ' : icode[0];
    scanned.altloc = cif::as_char(row[kAltId], '\0');
    const std::string symbol = cif::is_null(row[kSymbol]) ? std::string() : cif::as_string(row[kSymbol]);
    if (!symbol.empty()) {
      atom.atomic_number = atomic_number(symbol);
      if (atom.atomic_number == 0) fail("unknown element '" + symbol + "' in type_symbol");
    } else {
      atom.atomic_number = infer_element_from_atom_name(atom.name, has_polymer_atom_names(atom.residue_name));
      if (atom.atomic_number == 0)
        fail("type_symbol is missing and atom name '" + atom.name + "' fits no element");
    }
    if (row.has2(kCharge)) {
      try {
        atom.formal_charge = std::stoi(cif::as_string(row[kCharge]));
      } catch (const std::exception&) {
        fail("pdbx_formal_charge '" + cif::as_string(row[kCharge]) + "' is not an integer");
      }
    }
    atom.hetatm = false;
    const std::string model = row.has2(kModelNum) ? cif::as_string(row[kModelNum]) : std::string("1");
    if (row_number == 1) first_model_name = model;
    if (model != current_model) {
      current_model = model;
      row_of_atom.clear();
    }
    const std::string key = atom.chain_name + '|' + seq_text + '|' + icode + '|' + atom.residue_name + '|' +
                            atom.name + '|' + std::string(1, scanned.altloc);
    const auto [it, inserted] = row_of_atom.emplace(key, row_number);
    if (!inserted) {
      fail("duplicate atom " + atom.name + " of " + atom.residue_name + " " + seq_text + " chain " +
           atom.chain_name + " (also at _atom_site row " + std::to_string(it->second) + ")");
    }
    if (model != first_model_name) continue;
    // gemmi's residue id: name, auth_seq_id and insertion code, within a run of equal chain ids.
    grouping.place(atom.chain_name, atom.residue_name + '|' + seq_text + '|' + icode, scanned);
    const bool keep = conformers.keep(atom.chain_name + '|' + seq_text + '|' + icode, scanned.altloc);
    kept.push_back(keep);
    if (keep) {
      atom.starts_chain = kept_count++ == 0 || atom.chain_name != previous_chain;
      previous_chain = atom.chain_name;
    }
    first_model.push_back(std::move(scanned));
  }

  gemmi::Structure structure;
  try {
    structure = gemmi::make_structure_from_block(block);
  } catch (const std::exception& e) {
    throw InputError(path, one_line(e.what()));
  }
  ReceptorFile file;
  file.records_are_rows = true;
  file.model_count = std::max<int>(1, static_cast<int>(structure.models.size()));
  if (first_model.empty() || structure.models.empty()) return file;
  file.atoms = merge_with_gemmi(path, structure.models.front(), first_model, kept, true);
  const gemmi::UnitCell& cell = structure.cell;
  file.box = box_from_cell(cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma);
  // gemmi keeps group_PDB only as het_flag; residue kinds come from names, so it is informative only.
  return file;
}

}  // namespace hemeplm
