// Internal coordinates of a System for evaluation: heavy-atom bonds, angles and proper torsions from the
// covalent bonds, the peptide backbone dihedrals, and per-frame geometry (Å, radians).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::evaluate {

/// Atoms with atomic number > 1, ascending.
std::vector<int> heavy_atoms(const System& system);

/// Heavy-atom internal coordinates along the System's covalent bonds (hydrogens take no part).
struct InternalCoordinates {
  std::vector<std::array<int, 2>> bonds;     ///< a-b, a < b
  std::vector<std::array<int, 3>> angles;    ///< a-b-c with b bonded to both, a < c
  std::vector<std::array<int, 4>> torsions;  ///< a-b-c-d along bonds a-b, b-c, c-d; b < c, a != d
};
InternalCoordinates heavy_internal_coordinates(const System& system);

double distance(const Vec3& a, const Vec3& b);
/// Angle a-b-c in [0, π].
double bond_angle(const Vec3& a, const Vec3& b, const Vec3& c);
/// Dihedral a-b-c-d in (−π, π], IUPAC sign (clockwise looking down b->c is positive), as MDAnalysis.
double dihedral(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d);

/// Backbone dihedrals of amino-acid residues. φ_i = C(i−1)-N(i)-CA(i)-C(i) and ψ_i = N(i)-CA(i)-C(i)-N(i+1)
/// exist when the neighbouring residue (amino acid or cap) is present and its C (N) is bonded to N(i)
/// (C(i)); `pairs` lists the residues that have both. ω_i = CA(i)-C(i)-N(i+1)-CA(i+1) (CH3 for NME).
struct BackboneDihedrals {
  std::vector<int> residues;                 ///< residue index of each φ/ψ pair
  std::vector<std::array<int, 4>> phi, psi;  ///< same length as residues
  std::vector<std::array<int, 4>> omega;     ///< every ω found (for TICA features)
};
BackboneDihedrals backbone_dihedrals(const System& system);

/// "ALA12:A" (name, number, insertion code, chain) for tables.
std::string residue_label(const System& system, int residue);

/// Radius of gyration (Å, unweighted) of `atoms`.
double radius_of_gyration(Span<const Vec3> frame, const std::vector<int>& atoms);

}  // namespace hemeplm::evaluate
