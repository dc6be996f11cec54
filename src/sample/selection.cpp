// Atom selections for inpainting (grammar in sampler.hpp).
#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/sample/sampler.hpp"

namespace hemeplm::sample {
namespace {

std::vector<std::string> split(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + separator.size();
  }
  return parts;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

/// "3-7,9" -> ranges; UsageError naming the clause for anything else.
std::vector<std::pair<long, long>> ranges(const std::string& values, const std::string& clause) {
  std::vector<std::pair<long, long>> out;
  for (const auto& item : split(values, ",")) {
    const auto t = trim(item);
    const auto dash = t.find('-', 1);
    try {
      std::size_t used = 0;
      const long lo = std::stol(t.substr(0, dash), &used);
      if (used != t.substr(0, dash).size()) throw std::invalid_argument(t);
      long hi = lo;
      if (dash != std::string::npos) {
        hi = std::stol(t.substr(dash + 1), &used);
        if (used != t.substr(dash + 1).size()) throw std::invalid_argument(t);
      }
      if (hi < lo) throw std::invalid_argument(t);
      out.emplace_back(lo, hi);
    } catch (const std::exception&) {
      throw UsageError("selection '" + clause + "': '" + t + "' is not a number or range N-M");
    }
  }
  return out;
}

bool in_ranges(long v, const std::vector<std::pair<long, long>>& r) {
  return std::any_of(r.begin(), r.end(), [v](const auto& p) { return v >= p.first && v <= p.second; });
}

}  // namespace

std::vector<int> select_atoms_by(const System& system, const std::string& selection) {
  std::set<int> chosen;
  if (trim(selection).empty())
    throw UsageError("the inpainting selection is empty (use e.g. --inpaint-atoms ligand)");
  for (const auto& raw : split(selection, " or ")) {
    const auto clause = trim(raw);
    const auto space = clause.find(' ');
    const auto key = clause.substr(0, space);
    const auto values = space == std::string::npos ? std::string() : trim(clause.substr(space + 1));
    std::set<std::string> names;
    for (const auto& v : split(values, ",")) names.insert(trim(v));
    const auto before = chosen.size();
    if (key == "ligand" && values.empty()) {
      for (const int m : system.ligand_molecules())
        for (const int r : system.molecules[static_cast<std::size_t>(m)].residues) {
          const auto& res = system.residues[static_cast<std::size_t>(r)];
          for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) chosen.insert(a);
        }
    } else if (key == "index" && !values.empty()) {
      const auto r = ranges(values, clause);
      for (int a = 0; a < system.atom_count(); ++a)
        if (in_ranges(a, r)) chosen.insert(a);
      for (const auto& p : r)
        if (p.second >= system.atom_count())
          throw UsageError("selection '" + clause + "': index " + std::to_string(p.second) +
                           " is past the last atom (" + std::to_string(system.atom_count() - 1) + ")");
    } else if (key == "resid" && !values.empty()) {
      const auto r = ranges(values, clause);
      for (int a = 0; a < system.atom_count(); ++a)
        if (in_ranges(system.residue_of(a).seq, r)) chosen.insert(a);
    } else if ((key == "resname" || key == "name" || key == "chain") && !values.empty()) {
      for (int a = 0; a < system.atom_count(); ++a) {
        const auto& res = system.residue_of(a);
        const std::string& value = key == "resname" ? res.name
                                   : key == "name"  ? system.atom_names[static_cast<std::size_t>(a)]
                                                    : system.chains[static_cast<std::size_t>(res.chain)].name;
        if (names.count(value)) chosen.insert(a);
      }
    } else {
      throw UsageError("selection '" + clause +
                       "': expected 'ligand', 'index I-J', 'resid N-M', 'resname X', 'name X' or 'chain X'");
    }
    if (chosen.size() == before) throw UsageError("selection '" + clause + "' matches no atom");
  }
  if (static_cast<int>(chosen.size()) == system.atom_count())
    throw UsageError("selection '" + selection + "' selects every atom: use --mode unconditional");
  return {chosen.begin(), chosen.end()};
}

}  // namespace hemeplm::sample
