// PDB and mmCIF writers whose B-factor column carries a value per atom (docs/annotate.md).
#include "hemeplm/evaluate/bfactor_structure.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::evaluate {
namespace {

// PDB's B-factor column is %6.2f: what fits in six characters.
constexpr double kPdbBMax = 999.99;
constexpr double kPdbBMin = -99.99;
// Coordinates are %8.3f.
constexpr double kPdbCoordMax = 9999.999;
constexpr double kPdbCoordMin = -999.999;

bool is_polymer(ResidueKind kind) {
  return kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap || kind == ResidueKind::kNucleic;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Columns 13-16: a four-character name fills them; shorter names of one-letter elements start in column
// 14 so that the element stays in columns 13-14 (what readers that guess elements from names expect).
std::string pdb_atom_name(const std::string& name, int z) {
  if (name.size() >= 4) return name.substr(0, 4);
  std::string field = element_symbol(z).size() == 1 ? " " + name : name;
  field.resize(4, ' ');
  return field;
}

std::string pdb_charge(int charge) {
  if (charge == 0 || charge > 9 || charge < -9) return "  ";
  return std::to_string(std::abs(charge)) + (charge > 0 ? "+" : "-");
}

void check_sizes(const System& system, Span<const Vec3> positions, const std::vector<double>& atom_values) {
  const auto n = static_cast<std::size_t>(system.atom_count());
  if (positions.size() != n || atom_values.size() != n)
    throw UsageError("B-factor structure: " + std::to_string(positions.size()) + " positions and " +
                     std::to_string(atom_values.size()) + " values for " + std::to_string(n) + " atoms");
}

// mmCIF value: quoted when it holds blanks or would read as something else; '.' when empty.
std::string cif_token(const std::string& text) {
  if (text.empty()) return ".";
  const bool plain = text.find_first_of(" \t\"'") == std::string::npos &&
                     std::string("_#$'\"[];").find(text[0]) == std::string::npos && text != "." &&
                     text != "?";
  if (plain) return text;
  return text.find('\'') == std::string::npos ? "'" + text + "'" : "\"" + text + "\"";
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

}  // namespace

PdbBFactorScale pdb_bfactor_scale(const std::vector<double>& atom_values) {
  PdbBFactorScale result;
  for (int k = 0; k < 300; ++k) {
    bool fits = true;
    for (const double v : atom_values)
      if (std::isfinite(v) && (v * result.scale > kPdbBMax || v * result.scale < kPdbBMin)) fits = false;
    if (fits) break;
    result.scale /= 10.0;
  }
  result.not_a_number = static_cast<int>(
      std::count_if(atom_values.begin(), atom_values.end(), [](double v) { return !std::isfinite(v); }));
  return result;
}

std::vector<double> residue_values_per_atom(const System& system, const std::vector<double>& residue_values) {
  if (residue_values.size() != static_cast<std::size_t>(system.residue_count()))
    throw UsageError("residue_values_per_atom: " + std::to_string(residue_values.size()) + " values for " +
                     std::to_string(system.residue_count()) + " residues");
  std::vector<double> atom_values(static_cast<std::size_t>(system.atom_count()));
  for (int a = 0; a < system.atom_count(); ++a)
    atom_values[static_cast<std::size_t>(a)] =
        residue_values[static_cast<std::size_t>(system.atom_residue[static_cast<std::size_t>(a)])];
  return atom_values;
}

std::vector<char> pdb_chain_ids(const System& system) {
  static constexpr char kPool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<char> ids(system.chains.size(), 0);
  std::string used;
  for (std::size_t c = 0; c < system.chains.size(); ++c) {
    const auto& name = system.chains[c].name;
    if (name.size() == 1 && used.find(name[0]) == std::string::npos) {
      ids[c] = name[0];
      used += name[0];
    }
  }
  for (std::size_t c = 0; c < system.chains.size(); ++c) {
    if (ids[c] != 0) continue;
    for (const char* p = kPool; *p; ++p)
      if (used.find(*p) == std::string::npos) {
        ids[c] = *p;
        break;
      }
    if (ids[c] == 0) ids[c] = 'Z';  // more than 62 chains: PDB cannot tell them apart anyway
    used += ids[c];
  }
  return ids;
}

PdbBFactorScale write_bfactor_pdb(const std::string& path, const System& system, Span<const Vec3> positions,
                                  const std::vector<double>& atom_values, const BFactorContent& content) {
  check_sizes(system, positions, atom_values);
  const PdbBFactorScale scale = pdb_bfactor_scale(atom_values);
  const std::vector<char> chain_ids = pdb_chain_ids(system);
  std::string text;
  char line[128];
  // PDB records are at most 80 characters.
  auto remark = [&](const std::string& what) { text += ("REMARK  99 " + what).substr(0, 80) + "\n"; };
  remark("WRITTEN BY HEMEPLM ANNOTATE");
  remark("B-FACTOR: " + content.quantity + " (" + content.unit + ")");
  if (scale.scale != 1.0)
    remark("B-FACTOR = VALUE TIMES " + format("%g", scale.scale) + " (TO FIT COLUMNS 61-66)");
  if (scale.not_a_number > 0)
    remark("B-FACTOR 0.00 ON " + std::to_string(scale.not_a_number) + " ATOMS WITHOUT A VALUE");
  for (std::size_t c = 0; c < system.chains.size(); ++c)
    if (system.chains[c].name != std::string(1, chain_ids[c]))
      remark("CHAIN " + std::string(1, chain_ids[c]) + " = INPUT CHAIN " + system.chains[c].name +
             " (THE .CIF FILE KEEPS CHAIN NAMES)");
  if (system.box && system.box->is_orthorhombic()) {
    const auto& v = system.box->vectors;
    std::snprintf(line, sizeof line, "CRYST1%9.3f%9.3f%9.3f%7.2f%7.2f%7.2f P 1           1\n", v[0].x, v[1].y,
                  v[2].z, 90.0, 90.0, 90.0);
    text += line;
  }

  const int n = system.atom_count();
  int previous_chain = -1;
  bool chain_has_polymer = false;
  for (int a = 0; a < n; ++a) {
    const auto ua = static_cast<std::size_t>(a);
    const Residue& residue = system.residue_of(a);
    if (residue.chain != previous_chain) {
      if (chain_has_polymer) text += "TER\n";
      previous_chain = residue.chain;
      chain_has_polymer = false;
    }
    const bool polymer = is_polymer(residue.kind);
    chain_has_polymer = chain_has_polymer || polymer;
    const Vec3& p = positions[ua];
    for (const double x : {p.x, p.y, p.z})
      if (!(x <= kPdbCoordMax && x >= kPdbCoordMin))
        throw InputError(path, "atom " + std::to_string(a + 1),
                         "coordinate " + format("%g", x) + " does not fit PDB's columns; use the .cif file");
    const double value = atom_values[ua];
    const double b = std::isfinite(value) ? value * scale.scale : 0.0;
    const char chain = residue.chain >= 0 ? chain_ids[static_cast<std::size_t>(residue.chain)] : ' ';
    const int z = system.atomic_numbers[ua];
    std::snprintf(
        line, sizeof line, "%-6s%5d %-4s %-4.4s%c%4d%c   %8.3f%8.3f%8.3f%6.2f%6.2f          %2s%2s\n",
        polymer ? "ATOM" : "HETATM", (a + 1) % 100000, pdb_atom_name(system.atom_names[ua], z).c_str(),
        residue.name.c_str(), chain, residue.seq % 10000, residue.insertion, p.x, p.y, p.z, 1.0, b,
        upper(element_symbol(z)).c_str(), pdb_charge(system.formal_charges[ua]).c_str());
    text += line;
  }
  if (chain_has_polymer) text += "TER\n";

  // CONECT keeps the ligand's bonds exact for viewers that otherwise guess them from distances.
  if (n <= 99999) {
    std::vector<std::vector<int>> partners(static_cast<std::size_t>(n));
    for (const Bond& bond : system.bonds) {
      const auto& ra = system.residue_of(bond.a);
      const auto& rb = system.residue_of(bond.b);
      const bool het = !is_polymer(ra.kind) || !is_polymer(rb.kind);
      if (!het || ra.kind == ResidueKind::kWater || rb.kind == ResidueKind::kWater) continue;
      partners[static_cast<std::size_t>(bond.a)].push_back(bond.b);
      partners[static_cast<std::size_t>(bond.b)].push_back(bond.a);
    }
    for (int a = 0; a < n; ++a) {
      const auto& list = partners[static_cast<std::size_t>(a)];
      for (std::size_t first = 0; first < list.size(); first += 4) {
        std::string record = format("CONECT%5.0f", a + 1.0);
        for (std::size_t k = first; k < std::min(list.size(), first + 4); ++k)
          record += format("%5.0f", list[k] + 1.0);
        text += record + "\n";
      }
    }
  }
  text += "END\n";
  write_file_atomically(path, text);
  return scale;
}

void write_bfactor_mmcif(const std::string& path, const System& system, Span<const Vec3> positions,
                         const std::vector<double>& atom_values, const BFactorContent& content) {
  check_sizes(system, positions, atom_values);
  std::string text = "data_hemeplm_annotate\n#\n";
  text += "_struct.title " + cif_token("B_iso_or_equiv: " + content.quantity + " (" + content.unit + ")") +
          "\n#\nloop_\n";
  for (const char* item : {"group_PDB",         "id",
                           "type_symbol",       "label_atom_id",
                           "label_alt_id",      "label_comp_id",
                           "label_asym_id",     "label_entity_id",
                           "label_seq_id",      "pdbx_PDB_ins_code",
                           "Cartn_x",           "Cartn_y",
                           "Cartn_z",           "occupancy",
                           "B_iso_or_equiv",    "pdbx_formal_charge",
                           "auth_seq_id",       "auth_comp_id",
                           "auth_asym_id",      "auth_atom_id",
                           "pdbx_PDB_model_num"})
    text += std::string("_atom_site.") + item + "\n";

  // label_seq_id numbers the residues of a polymer chain from 1; other groups have none ('.').
  std::vector<int> label_seq(static_cast<std::size_t>(system.residue_count()), 0);
  for (const Chain& chain : system.chains) {
    int next = 1;
    for (int r = chain.first_residue; r < chain.first_residue + chain.residue_count; ++r)
      if (is_polymer(system.residues[static_cast<std::size_t>(r)].kind))
        label_seq[static_cast<std::size_t>(r)] = next++;
  }
  for (int a = 0; a < system.atom_count(); ++a) {
    const auto ua = static_cast<std::size_t>(a);
    const Residue& residue = system.residue_of(a);
    const auto& chain =
        residue.chain >= 0 ? system.chains[static_cast<std::size_t>(residue.chain)].name : std::string("?");
    const int seq = label_seq[static_cast<std::size_t>(system.atom_residue[ua])];
    const Vec3& p = positions[ua];
    const double value = atom_values[ua];
    const std::string atom = cif_token(system.atom_names[ua]);
    const std::string comp = cif_token(residue.name);
    const std::string asym = cif_token(chain);
    text += std::string(is_polymer(residue.kind) ? "ATOM" : "HETATM") + ' ' + std::to_string(a + 1) + ' ' +
            std::string(element_symbol(system.atomic_numbers[ua])) + ' ' + atom + " . " + comp + ' ' + asym +
            ' ' + std::to_string(residue.chain + 1) + ' ' + (seq > 0 ? std::to_string(seq) : ".") + ' ' +
            (residue.insertion == ' ' ? std::string("?") : std::string(1, residue.insertion)) + ' ' +
            format("%.3f", p.x) + ' ' + format("%.3f", p.y) + ' ' + format("%.3f", p.z) + " 1.00 " +
            (std::isfinite(value) ? format("%.6g", value) : "?") + ' ' +
            std::to_string(system.formal_charges[ua]) + ' ' + std::to_string(residue.seq) + ' ' + comp + ' ' +
            asym + ' ' + atom + " 1\n";
  }
  text += "#\n";
  write_file_atomically(path, text);
}

}  // namespace hemeplm::evaluate
