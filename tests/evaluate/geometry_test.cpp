// Internal coordinates, backbone dihedrals, superposition and the linear algebra behind TICA, against
// hand-computed geometry, MDAnalysis values and known eigensystems.
#include "hemeplm/evaluate/geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "evaluate_test_data.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/histogram.hpp"
#include "hemeplm/evaluate/linear_algebra.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(Histogram, JensenShannonIsZeroForIdenticalAndLn2ForDisjoint) {
  Histogram a(0, 10, 10), b(0, 10, 10), c(0, 10, 10);
  for (double x : {0.5, 1.5, 1.6, 7.2}) a.add(x), b.add(x);
  for (double x : {3.5, 4.5}) c.add(x);
  EXPECT_DOUBLE_EQ(jensen_shannon(a.normalized(), b.normalized()), 0.0);
  EXPECT_NEAR(jensen_shannon(a.normalized(), c.normalized()), std::log(2.0), 1e-12);
  // Half the mass shared: JSD = ½ ln 2 for p = (½, ½, 0), q = (0, ½, ½).
  EXPECT_NEAR(jensen_shannon({0.5, 0.5, 0}, {0, 0.5, 0.5}), 0.5 * std::log(2.0), 1e-12);
  EXPECT_TRUE(std::isnan(jensen_shannon({0, 0}, {1, 0})));
}

TEST(Histogram, ValuesOutsideTheRangeAreNotCounted) {
  Histogram h(100, 220, 100);
  h.add(99.9);
  h.add(220.1);
  h.add(std::nan(""));
  h.add(100);
  h.add(220);  // the last bin includes the upper edge
  EXPECT_EQ(h.total(), 2);
  EXPECT_EQ(h.normalized().front(), 0.5);
  EXPECT_EQ(h.normalized().back(), 0.5);
  EXPECT_NEAR(h.center(0), 100.6, 1e-12);
}

TEST(Geometry, BondAngleAndTorsionMatchHandComputedValues) {
  const Vec3 a{1, 0, 0}, b{0, 0, 0}, c{0, 1, 0};
  EXPECT_NEAR(distance(a, Vec3{4, 4, 0}), 5.0, 1e-12);
  EXPECT_NEAR(bond_angle(a, b, c), kPi / 2, 1e-12);
  EXPECT_NEAR(bond_angle(a, b, Vec3{-2, 0, 0}), kPi, 1e-12);
  EXPECT_NEAR(bond_angle(a, b, Vec3{1, std::sqrt(3.0), 0}), kPi / 3, 1e-12);
  // a-b-c-d with d rotated about the b->c axis: cis 0, trans π, and +90° for a clockwise turn seen down
  // b->c (IUPAC sign).
  const Vec3 p{1, 0, 0}, q{0, 0, 0}, r{0, 0, 1};
  EXPECT_NEAR(dihedral(p, q, r, Vec3{1, 0, 1}), 0.0, 1e-12);
  EXPECT_NEAR(std::abs(dihedral(p, q, r, Vec3{-1, 0, 1})), kPi, 1e-12);
  EXPECT_NEAR(dihedral(p, q, r, Vec3{0, 1, 1}), kPi / 2, 1e-12);
  EXPECT_NEAR(dihedral(p, q, r, Vec3{0, -1, 1}), -kPi / 2, 1e-12);
}

TEST(Geometry, HeavyInternalCoordinatesOfAlanineDipeptide) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  const System system = load_system({pdb, {}});
  const InternalCoordinates ic = heavy_internal_coordinates(system);
  // ACE(CH3 C O) ALA(N CA CB C O) NME(N CH3): 10 heavy atoms in a tree, so 9 bonds.
  EXPECT_EQ(heavy_atoms(system).size(), 10u);
  EXPECT_EQ(ic.bonds.size(), 9u);
  // Angles: Σ over atoms of C(degree, 2); degrees: C(ACE) 3, N 2, CA 3, C 3, N(NME) 2 -> 3+1+3+3+1 = 11.
  EXPECT_EQ(ic.angles.size(), 11u);
  for (const auto& t : ic.torsions) {
    EXPECT_NE(t[0], t[3]);
    EXPECT_LT(t[1], t[2]);
  }
}

TEST(Geometry, AlanineDipeptidePhiPsiMatchMDAnalysis) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  const System system = load_system({pdb, {}});
  const BackboneDihedrals bb = backbone_dihedrals(system);
  ASSERT_EQ(bb.residues.size(), 1u);  // ACE-ALA-NME: one φ/ψ pair, at ALA
  EXPECT_EQ(system.residues[bb.residues[0]].name, "ALA");
  EXPECT_EQ(bb.omega.size(), 1u);  // ω of ALA->NME; caps have no ω of their own
  const auto& x = system.positions;
  const auto& phi = bb.phi[0];
  const auto& psi = bb.psi[0];
  // MDAnalysis 2.4.2 on the same PDB:
  //   Ramachandran(Universe("ala2_traj_top_mdtraj.pdb").select_atoms("protein")).run().results.angles
  //   -> [[-151.62924682, 161.73193127]]
  EXPECT_NEAR(dihedral(x[phi[0]], x[phi[1]], x[phi[2]], x[phi[3]]) * 180 / kPi, -151.62924682, 0.01);
  EXPECT_NEAR(dihedral(x[psi[0]], x[psi[1]], x[psi[2]], x[psi[3]]) * 180 / kPi, 161.73193127, 0.01);
  EXPECT_EQ(residue_label(system, bb.residues[0]).substr(0, 4), "ALA2");
}

TEST(LinearAlgebra, JacobiMatchesAKnownEigensystem) {
  // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1 with vectors e_z, (1,1,0)/√2, (1,−1,0)/√2.
  const SymmetricEigen e = symmetric_eigen({2, 1, 0, 1, 2, 0, 0, 0, 5}, 3);
  EXPECT_NEAR(e.values[0], 5, 1e-12);
  EXPECT_NEAR(e.values[1], 3, 1e-12);
  EXPECT_NEAR(e.values[2], 1, 1e-12);
  EXPECT_NEAR(std::abs(e.vectors[2 * 3 + 0]), 1, 1e-12);
  EXPECT_NEAR(std::abs(e.vectors[0 * 3 + 1]), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(e.vectors[0 * 3 + 1], e.vectors[1 * 3 + 1], 1e-12);
  EXPECT_NEAR(e.vectors[0 * 3 + 2], -e.vectors[1 * 3 + 2], 1e-12);
}

TEST(LinearAlgebra, JacobiDiagonalisesRandomSymmetricMatrices) {
  std::mt19937_64 random(7);
  std::normal_distribution<double> gauss;
  const int n = 12;
  std::vector<double> a(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = gauss(random);
  const SymmetricEigen e = symmetric_eigen(a, n);
  for (int k = 0; k < n; ++k) {
    if (k > 0) {
      EXPECT_GE(e.values[k - 1], e.values[k]);
    }
    for (int i = 0; i < n; ++i) {  // A v = λ v
      double av = 0;
      for (int j = 0; j < n; ++j) av += a[i * n + j] * e.vectors[j * n + k];
      EXPECT_NEAR(av, e.values[k] * e.vectors[i * n + k], 1e-10);
    }
    for (int l = 0; l < n; ++l) {  // orthonormal
      double d = 0;
      for (int i = 0; i < n; ++i) d += e.vectors[i * n + k] * e.vectors[i * n + l];
      EXPECT_NEAR(d, k == l ? 1.0 : 0.0, 1e-10);
    }
  }
}

TEST(LinearAlgebra, CholeskyReproducesTheMatrixAndRejectsIndefinite) {
  const std::vector<double> m = {4, 2, 0.4, 2, 5, 1, 0.4, 1, 3};
  const std::vector<double> l = cholesky(m, 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += l[i * 3 + k] * l[j * 3 + k];
      EXPECT_NEAR(s, m[i * 3 + j], 1e-12);
    }
  EXPECT_THROW(cholesky({1, 2, 2, 1}, 2), UsageError);
}

std::vector<Vec3> rotated(const std::vector<Vec3>& x, double angle, Vec3 shift) {
  // Rotation about the (1, 1, 1)/√3 axis (Rodrigues), then a shift.
  const Vec3 k = Vec3{1, 1, 1} * (1 / std::sqrt(3.0));
  std::vector<Vec3> out;
  for (const Vec3& v : x)
    out.push_back(v * std::cos(angle) + cross(k, v) * std::sin(angle) +
                  k * (dot(k, v) * (1 - std::cos(angle))) + shift);
  return out;
}

TEST(Superposition, RmsdIsInvariantUnderRigidMotion) {
  std::mt19937_64 random(3);
  std::normal_distribution<double> gauss(0, 3);
  std::vector<Vec3> a, b;
  for (int i = 0; i < 30; ++i) {
    a.push_back({gauss(random), gauss(random), gauss(random)});
    b.push_back(a.back() + Vec3{gauss(random), gauss(random), gauss(random)} * 0.1);
  }
  std::vector<int> atoms(30);
  for (int i = 0; i < 30; ++i) atoms[i] = i;
  EXPECT_NEAR(superposed_rmsd(rotated(a, 2.1, {5, -3, 1}), a, atoms), 0.0, 1e-9);
  const double rmsd = superposed_rmsd(b, a, atoms);
  EXPECT_GT(rmsd, 0.05);
  EXPECT_NEAR(superposed_rmsd(rotated(b, 0.7, {1, 2, 3}), rotated(a, -1.3, {0, 0, 9}), atoms), rmsd, 1e-9);
  // A proper rotation: the mirror image of a chiral cloud does not superpose.
  std::vector<Vec3> mirror = a;
  for (Vec3& v : mirror) v.x = -v.x;
  EXPECT_GT(superposed_rmsd(mirror, a, atoms), 0.5);
  EXPECT_NEAR(radius_of_gyration(rotated(a, 1.0, {3, 3, 3}), atoms), radius_of_gyration(a, atoms), 1e-9);
}

}  // namespace
}  // namespace hemeplm::evaluate
