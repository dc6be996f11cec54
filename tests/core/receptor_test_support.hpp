// Helpers for the receptor tests: PDB line writers, System summaries and chemistry checks.
#pragma once

#include <cstdio>
#include <string>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/system.hpp"

namespace hemeplm::test {

/// One ATOM/HETATM line in the fixed PDB columns. `name4` is the 4-character name field (" CA ").
inline std::string pdb_atom_line(const char* record, int serial, const char* name4, const char* residue,
                                 const char* chain, int seq, double x, double y, double z,
                                 const char* element, char altloc = ' ') {
  char line[100];
  std::snprintf(line, sizeof line,
                "%-6s%5d %-4.4s%c%-3.3s %1.1s%4d    %8.3f%8.3f%8.3f  1.00  0.00          %2s\n", record,
                serial, name4, altloc, residue, chain, seq, x, y, z, element);
  return line;
}

/// Sum of bond orders per atom.
inline std::vector<int> valences(const System& system) {
  std::vector<int> valence(system.atom_count(), 0);
  for (const Bond& bond : system.bonds) {
    valence[bond.a] += bond.order;
    valence[bond.b] += bond.order;
  }
  return valence;
}

/// Expected valence of a neutral C/N/O/S atom shifted by its formal charge (N+ 4, O- 1); -1 for others.
inline int expected_valence(int z, int charge) {
  switch (z) {
    case 6:
      return 4;
    case 7:
      return 3 + charge;
    case 8:
      return 2 + charge;
    case 16:
      return 2 + charge;
    case 1:
      return 1;
    default:
      return -1;
  }
}

inline int count_kind(const System& system, ResidueKind kind) {
  int n = 0;
  for (const Residue& r : system.residues) n += r.kind == kind ? 1 : 0;
  return n;
}

inline int count_hydrogens(const System& system) {
  int n = 0;
  for (int z : system.atomic_numbers) n += z == 1 ? 1 : 0;
  return n;
}

inline bool bonded(const System& system, int a, int b) {
  if (a > b) std::swap(a, b);
  for (const Bond& bond : system.bonds) {
    if (bond.a == a && bond.b == b) return true;
  }
  return false;
}

inline int find_atom(const System& system, int residue, const std::string& name) {
  const Residue& r = system.residues[residue];
  for (int i = r.first_atom; i < r.first_atom + r.atom_count; ++i) {
    if (system.atom_names[i] == name) return i;
  }
  return -1;
}

}  // namespace hemeplm::test
