// Ligand files without a receptor: a System of their molecules alone (e.g. the topology of an SDF
// conformer set), and conformer sets as plain elements + coordinates per record (their frames).
#include "atom_features.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "ligand_reader.hpp"

namespace hemeplm {
namespace {

std::string titled(const LigandRecord& r) {
  return r.title.empty() ? "" : " '" + r.title + "'";
}

/// Throws unless `record` (0-based `index`) has the first record's element sequence.
void check_same_molecule(const std::string& path, const LigandRecord& first, const LigandRecord& record,
                         int index) {
  const std::string hint =
      ": a conformer set holds one molecule (the same atoms in the same order) in every record";
  const std::string where =
      "record " + std::to_string(index + 1) + " (" + line_record(record.first_line) + ")";
  if (record.atomic_numbers.size() != first.atomic_numbers.size())
    throw InputError(path, where,
                     "molecule" + titled(record) + " has " + std::to_string(record.atomic_numbers.size()) +
                         " atoms, record 1" + titled(first) + " has " +
                         std::to_string(first.atomic_numbers.size()) + " atoms" + hint);
  for (std::size_t i = 0; i < record.atomic_numbers.size(); ++i) {
    if (record.atomic_numbers[i] != first.atomic_numbers[i])
      throw InputError(path, where,
                       "atom " + std::to_string(i + 1) + " is " +
                           std::string(element_symbol(record.atomic_numbers[i])) + ", in record 1 it is " +
                           std::string(element_symbol(first.atomic_numbers[i])) + hint);
  }
}

}  // namespace

System load_ligand_system(const std::string& path, bool first_molecule_only) {
  // Stop after the first record when it alone is wanted: later records are not even parsed.
  const std::vector<LigandRecord> records =
      read_ligand_file(path, [&](const LigandRecord&, int) { return !first_molecule_only; });
  System system;
  system.sources.push_back(path);
  append_ligands(system, records, 0, "L1");
  compute_atom_features(system);
  return system;
}

std::vector<LigandConformer> read_conformer_set(const std::string& path) {
  // Checked as each record is read, so that a file of different molecules is refused at the first one
  // that differs, before any later record can fail for reasons of its own.
  std::vector<LigandConformer> out;
  LigandRecord first;
  read_ligand_file(path, [&](const LigandRecord& record, int index) {
    if (index == 0)
      first = record;
    else
      check_same_molecule(path, first, record, index);
    out.push_back({record.title, record.first_line, record.atomic_numbers, record.positions});
    return true;
  });
  return out;
}

}  // namespace hemeplm
