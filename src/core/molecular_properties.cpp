// The QM9 property table. Hartree -> eV with CODATA 2018 (27.211386245988 eV); the other QM9 units
// (Debye, bohr^3, bohr^2, cal/mol/K) are kept as they are the units every QM9 benchmark reports.
#include "hemeplm/core/molecular_properties.hpp"

#include <algorithm>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {
constexpr double kEvPerHartree = 27.211386245988;
}  // namespace

const std::vector<PropertyConversion>& qm9_property_conversions() {
  static const std::vector<PropertyConversion> table{
      {"mu", "mu", "Debye", 1.0},
      {"alpha", "alpha", "bohr3", 1.0},
      {"epsHOMO", "homo", "eV", kEvPerHartree},
      {"epsLUMO", "lumo", "eV", kEvPerHartree},
      {"epsgap", "gap", "eV", kEvPerHartree},
      {"<R2>", "r2", "bohr2", 1.0},
      {"zpve", "zpve", "eV", kEvPerHartree},
      {"U0", "u0", "eV", kEvPerHartree},
      {"U", "u", "eV", kEvPerHartree},
      {"H", "h", "eV", kEvPerHartree},
      {"G", "g", "eV", kEvPerHartree},
      {"Cv", "cv", "cal mol-1 K-1", 1.0},
  };
  return table;
}

namespace {
const PropertyConversion* find_conversion(const std::string& key) {
  for (const PropertyConversion& c : qm9_property_conversions())
    if (key == c.key) return &c;
  return nullptr;
}
}  // namespace

std::string property_name(const std::string& key) {
  if (const PropertyConversion* c = find_conversion(key)) return c->name;
  std::string name = key;
  for (char& ch : name) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    if (ch >= 'A' && ch <= 'Z') {
      ch = static_cast<char>(ch - 'A' + 'a');
    } else if (!keep) {
      ch = '_';
    }
  }
  return name;
}

std::vector<MoleculeProperty> map_molecule_properties(const std::map<std::string, double>& raw,
                                                      const std::string& path, const std::string& record) {
  std::vector<MoleculeProperty> out;
  std::map<std::string, std::string> key_of_name;  // to name both keys of a collision
  for (const auto& [key, value] : raw) {
    const PropertyConversion* c = find_conversion(key);
    MoleculeProperty p{property_name(key), c ? c->unit : "", c ? c->factor * value : value};
    if (p.name.empty()) throw InputError(path, record, "a comment key is empty");
    const auto [it, added] = key_of_name.emplace(p.name, key);
    if (!added)
      throw InputError(path, record,
                       "keys '" + it->second + "' and '" + key + "' both map to property '" + p.name + "'");
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const MoleculeProperty& a, const MoleculeProperty& b) { return a.name < b.name; });
  return out;
}

}  // namespace hemeplm
