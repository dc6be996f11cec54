// Per-molecule property labels (QM9 and similar molecule sets): the numeric comment keys of an extended
// XYZ frame mapped to hemeplm's names and units. QM9 states its energies in Hartree; hemeplm stores eV.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hemeplm {

/// One entry of the QM9 table: comment key -> name, unit, and the factor from the file's unit.
struct PropertyConversion {
  const char* key;   ///< as written in the file ("epsgap", "<R2>")
  const char* name;  ///< hemeplm's name ("gap", "r2")
  const char* unit;  ///< H5MD unit string of the stored value ("eV")
  double factor;     ///< stored value = factor x file value
};

/// The QM9 table: epsHOMO/epsLUMO/epsgap -> homo/lumo/gap (eV), mu (Debye), alpha (bohr3), <R2> -> r2
/// (bohr2), zpve and U0/U/H/G -> zpve, u0/u/h/g (eV), Cv -> cv (cal mol-1 K-1). A, B, C are not in it.
const std::vector<PropertyConversion>& qm9_property_conversions();

/// A labelled value as stored with the data.
struct MoleculeProperty {
  std::string name;
  std::string unit;  ///< "" for keys outside the table (value as written)
  double value = 0;
};

/// The stored name of a key: the table's name, else the key lower-cased with every character outside
/// [a-z0-9_] replaced by '_' ("A" -> "a", "my-label" -> "my_label").
std::string property_name(const std::string& key);

/// Every key of `raw` mapped (table entries converted, other keys kept as property_name(key), unit ""),
/// sorted by name. Two keys with one name (e.g. "gap" and "epsgap") are an InputError naming `path` and
/// `record`.
std::vector<MoleculeProperty> map_molecule_properties(const std::map<std::string, double>& raw,
                                                      const std::string& path, const std::string& record);

}  // namespace hemeplm
