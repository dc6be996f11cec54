#include "atom_features.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "hemeplm/core/features.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "ligand_reader.hpp"
#include "ligand_test_molecules.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using test::TempDir;
namespace f = feature;

System ligand_system(const std::string& path) {
  System s;
  s.sources = {path};
  append_ligands(s, read_ligand_file(path), 0, "L");
  compute_atom_features(s);
  return s;
}

System ligand_text_system(const std::string& name, const std::string& text) {
  const TempDir dir;
  return ligand_system(dir.write(name, text));
}

const float* row(const System& s, int atom) {
  return s.features.data() + atom * kAtomFeatureCount;
}

/// Index of the single 1 in a one-hot group, -1 when the group is not one-hot.
int hot(const System& s, int atom, int start, int size) {
  int found = -1, ones = 0;
  for (int k = 0; k < size; ++k) {
    const float v = row(s, atom)[start + k];
    if (v == 1.0f)
      found = k, ++ones;
    else if (v != 0.0f)
      return -1;
  }
  return ones == 1 ? found : -1;
}

void expect_valid_rows(const System& s) {
  ASSERT_EQ(s.features.size(), static_cast<std::size_t>(s.atom_count()) * kAtomFeatureCount);
  for (int i = 0; i < s.atom_count(); ++i) {
    SCOPED_TRACE("atom " + std::to_string(i));
    EXPECT_GE(hot(s, i, f::kHybridization, f::kHybridizationCount), 0);
    EXPECT_GE(hot(s, i, f::kHydrogenCount, f::kHydrogenCountSize), 0);
    EXPECT_GE(hot(s, i, f::kHeavyDegree, f::kHeavyDegreeSize), 0);
    EXPECT_GE(hot(s, i, f::kFormalCharge, f::kFormalChargeSize), 0);
    EXPECT_GE(hot(s, i, f::kChirality, f::kChiralityCount), 0);
    float ring_sizes = 0;
    for (int k = 0; k < f::kRingSizeCount; ++k) ring_sizes += row(s, i)[f::kRingSize + k];
    EXPECT_EQ(row(s, i)[f::kInRing] == 1.0f, ring_sizes > 0);
    EXPECT_TRUE(std::isfinite(row(s, i)[f::kGasteigerCharge]));
    EXPECT_LE(std::abs(row(s, i)[f::kGasteigerCharge]), 2.0f);
    for (int k : {f::kAromatic, f::kInRing, f::kDonor, f::kAcceptor, f::kConjugated})
      EXPECT_TRUE(row(s, i)[k] == 0.0f || row(s, i)[k] == 1.0f);
  }
}

// Phe atom order (kPheSdf): 0 N+, 1 CA (S), 2 CB, 3..8 ring C, 9 C(=O), 10/11 O, 12..14 H on N.
TEST(AtomFeatures, PhenylalanineChemistry) {
  const System s = ligand_text_system("phe.sdf", test::kPheSdf);
  expect_valid_rows(s);
  for (int i = 3; i <= 8; ++i) {
    EXPECT_EQ(row(s, i)[f::kAromatic], 1.0f);
    EXPECT_EQ(hot(s, i, f::kHybridization, f::kHybridizationCount), 2) << "SP2";
    EXPECT_EQ(row(s, i)[f::kRingSize + 3], 1.0f) << "6-ring";
    EXPECT_EQ(row(s, i)[f::kConjugated], 1.0f);
  }
  EXPECT_EQ(hot(s, 4, f::kHydrogenCount, f::kHydrogenCountSize), 1);
  EXPECT_EQ(hot(s, 3, f::kHeavyDegree, f::kHeavyDegreeSize), 3);
  // Ammonium N: +1, SP3, 3 H, donor, not acceptor.
  EXPECT_EQ(hot(s, 0, f::kFormalCharge, f::kFormalChargeSize), 3);
  EXPECT_EQ(hot(s, 0, f::kHybridization, f::kHybridizationCount), 3);
  EXPECT_EQ(hot(s, 0, f::kHydrogenCount, f::kHydrogenCountSize), 3);
  EXPECT_EQ(row(s, 0)[f::kDonor], 1.0f);
  EXPECT_EQ(row(s, 0)[f::kAcceptor], 0.0f);
  // Carboxylate: one O is -1, both acceptors.
  EXPECT_EQ(
      hot(s, 10, f::kFormalCharge, f::kFormalChargeSize) + hot(s, 11, f::kFormalCharge, f::kFormalChargeSize),
      3);
  EXPECT_EQ(row(s, 10)[f::kAcceptor], 1.0f);
  EXPECT_EQ(row(s, 11)[f::kAcceptor], 1.0f);
  EXPECT_EQ(row(s, 11)[f::kDonor], 0.0f);
  // CA is S; nothing else is a stereocentre; hydrogens are S-hybridised (slot 0), no ring.
  EXPECT_EQ(hot(s, 1, f::kChirality, f::kChiralityCount), 2);
  for (int i = 0; i < s.atom_count(); ++i)
    if (i != 1) {
      EXPECT_EQ(hot(s, i, f::kChirality, f::kChiralityCount), 0) << i;
    }
  EXPECT_EQ(hot(s, 12, f::kHybridization, f::kHybridizationCount), 0);
  EXPECT_EQ(hot(s, 12, f::kHeavyDegree, f::kHeavyDegreeSize), 1);
  EXPECT_EQ(row(s, 2)[f::kInRing], 0.0f);
}

TEST(AtomFeatures, GasteigerMatchesRdkitPython) {
  const System s = ligand_text_system("phe.sdf", test::kPheSdf);
  ASSERT_EQ(s.atom_count(), 23);
  for (int i = 0; i < 23; ++i) EXPECT_NEAR(row(s, i)[f::kGasteigerCharge], test::kPheGasteiger[i], 1e-6) << i;
}

TEST(AtomFeatures, MirrorImageIsR) {
  auto lines = std::string(test::kPheSdf);
  System s = ligand_text_system("phe.sdf", lines);
  for (Vec3& p : s.positions) p.x = -p.x;
  compute_atom_features(s);
  EXPECT_EQ(hot(s, 1, f::kChirality, f::kChiralityCount), 1);
}

TEST(AtomFeatures, SdfMol2AndV3000GiveIdenticalFeatures) {
  const System a = ligand_text_system("phe.sdf", test::kPheSdf);
  const System b = ligand_text_system("phe.mol2", test::kPheMol2);
  const System c = ligand_text_system("phe3.sdf", test::kPheV3000);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.features, c.features);
  ASSERT_EQ(a.bonds.size(), b.bonds.size());
  for (std::size_t i = 0; i < a.bonds.size(); ++i) EXPECT_EQ(a.bonds[i].order, b.bonds[i].order);
}

TEST(AtomFeatures, HeavyAtomCopyAgreesWithExplicitHydrogens) {
  const System h = ligand_text_system("phe.sdf", test::kPheSdf);
  const System heavy = ligand_text_system("heavy.sdf", test::kPheHeavySdf);
  ASSERT_EQ(heavy.atom_count(), 12);
  expect_valid_rows(heavy);
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE("atom " + std::to_string(i));
    for (int k = 0; k < kAtomFeatureCount; ++k) {
      if (k == f::kGasteigerCharge) continue;
      EXPECT_EQ(row(h, i)[k], row(heavy, i)[k]) << "feature " << k;
    }
    // RDKit folds implicit H into the heavy atom's charge: close, not equal.
    EXPECT_NEAR(row(h, i)[f::kGasteigerCharge], row(heavy, i)[f::kGasteigerCharge], 0.35);
  }
}

TEST(AtomFeatures, RealLigandsHaveValidRows) {
  for (const char* name :
       {"pl_1iep_imatinib_ligand.sdf", "pl_1a46_ligand.sdf", "pl_184l_isobutylbenzene_ligand.sdf",
        "big_1s63_ligand.sdf", "ruxolitinib_10conformers.sdf"}) {
    SCOPED_TRACE(name);
    HEMEPLM_REQUIRE_SHARED_DATA(path, name);
    const System s = ligand_system(path);
    expect_valid_rows(s);
  }
}

TEST(AtomFeatures, IsobutylbenzeneWithoutHydrogensGetsImplicitH) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_184l_isobutylbenzene_ligand.sdf");
  const System s = ligand_system(path);
  int aromatic = 0, h_total = 0;
  for (int i = 0; i < s.atom_count(); ++i) {
    aromatic += row(s, i)[f::kAromatic] == 1.0f;
    h_total += hot(s, i, f::kHydrogenCount, f::kHydrogenCountSize);
  }
  EXPECT_EQ(aromatic, 6);
  EXPECT_EQ(h_total, 14);  // C10H14
}

TEST(AtomFeatures, ImatinibChargedPiperazineAndAmide) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_1iep_imatinib_ligand.sdf");
  const System s = ligand_system(path);
  // Atom 32 (index 31) is the protonated piperazine N.
  EXPECT_EQ(hot(s, 31, f::kFormalCharge, f::kFormalChargeSize), 3);
  EXPECT_EQ(row(s, 31)[f::kDonor], 1.0f);
  EXPECT_EQ(row(s, 31)[f::kAcceptor], 0.0f);
  int amide_n = 0;
  for (int i = 0; i < s.atom_count(); ++i)
    if (s.atomic_numbers[i] == 7 && row(s, i)[f::kDonor] == 1.0f && row(s, i)[f::kAcceptor] == 0.0f &&
        row(s, i)[f::kConjugated] == 1.0f)
      ++amide_n;
  EXPECT_EQ(amide_n, 2);  // amide NH and anilinic NH: lone pairs in pi systems
}

System water_box(int waters, bool with_h) {
  System s;
  for (int w = 0; w < waters; ++w) {
    const int first = s.atom_count();
    const Vec3 o{3.1 * (w % 20), 3.1 * ((w / 20) % 20), 3.1 * (w / 400)};
    Residue r;
    r.name = "HOH";
    r.kind = ResidueKind::kWater;
    r.first_atom = first;
    r.atom_count = with_h ? 3 : 1;
    s.residues.push_back(r);
    s.positions.push_back(o);
    s.atomic_numbers.push_back(8);
    if (with_h) {
      s.positions.push_back(o + Vec3{0.96, 0, 0});
      s.positions.push_back(o + Vec3{-0.24, 0.93, 0});
      s.atomic_numbers.push_back(1);
      s.atomic_numbers.push_back(1);
      s.bonds.push_back({first, first + 1, 1});
      s.bonds.push_back({first, first + 2, 1});
    }
    for (int k = first; k < s.atom_count(); ++k) s.atom_residue.push_back(s.residue_count() - 1);
  }
  s.formal_charges.assign(s.atom_count(), 0);
  return s;
}

TEST(AtomFeatures, WatersAreFastAndRight) {
  System s = water_box(7023, true);
  const auto t0 = std::chrono::steady_clock::now();
  compute_atom_features(s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ info ] features of 7,023 waters in " << seconds << " s\n";
  EXPECT_LT(seconds, 0.5);
  expect_valid_rows(s);
  EXPECT_EQ(hot(s, 3, f::kHydrogenCount, f::kHydrogenCountSize), 2);
  EXPECT_EQ(hot(s, 3, f::kHybridization, f::kHybridizationCount), 3);
  EXPECT_EQ(row(s, 3)[f::kDonor], 1.0f);
  EXPECT_EQ(row(s, 3)[f::kAcceptor], 1.0f);
  EXPECT_NEAR(row(s, 3)[f::kGasteigerCharge], -0.41, 0.02);
  EXPECT_EQ(std::vector<float>(row(s, 0), row(s, 0) + kAtomFeatureCount),
            std::vector<float>(row(s, 3), row(s, 3) + kAtomFeatureCount));

  System heavy = water_box(10, false);
  compute_atom_features(heavy);
  EXPECT_EQ(hot(heavy, 0, f::kHydrogenCount, f::kHydrogenCountSize), 2) << "implicit H of an O-only water";
}

TEST(AtomFeatures, IonsGetNoImplicitHydrogens) {
  System s;
  for (int z : {30, 17, 11}) {
    Residue r;
    r.kind = ResidueKind::kIon;
    r.first_atom = s.atom_count();
    r.atom_count = 1;
    s.residues.push_back(r);
    s.positions.push_back({1.0 * z, 0, 0});
    s.atomic_numbers.push_back(z);
    s.atom_residue.push_back(s.residue_count() - 1);
  }
  s.formal_charges = {2, -1, 1};
  compute_atom_features(s);
  expect_valid_rows(s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hot(s, i, f::kHydrogenCount, f::kHydrogenCountSize), 0);
  EXPECT_EQ(hot(s, 0, f::kFormalCharge, f::kFormalChargeSize), 4);
  EXPECT_EQ(hot(s, 1, f::kFormalCharge, f::kFormalChargeSize), 1);
}

// A HETATM group whose bonds were guessed from distances: a carbon with five single bonds and a
// Zn coordinated by it. RDKit cannot sanitise it; we still get valid rows and keep going.
TEST(AtomFeatures, OverValentGroupFallsBackWithoutThrowing) {
  System s;
  Residue r;
  r.kind = ResidueKind::kCofactor;
  r.atom_count = 7;
  s.residues.push_back(r);
  const Vec3 d[6] = {{0, 0, 0}, {1.5, 0, 0}, {-1.5, 0, 0}, {0, 1.5, 0}, {0, -1.5, 0}, {0, 0, 1.5}};
  for (const Vec3& p : d) s.positions.push_back(p), s.atomic_numbers.push_back(6);
  s.positions.push_back({0, 0, -2.0});
  s.atomic_numbers.push_back(30);
  s.atom_residue.assign(7, 0);
  s.formal_charges.assign(7, 0);
  for (int i = 1; i < 6; ++i) s.bonds.push_back({0, i, 1});
  s.bonds.push_back({0, 6, 1});
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(compute_atom_features(s));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  expect_valid_rows(s);
  EXPECT_EQ(hot(s, 0, f::kHeavyDegree, f::kHeavyDegreeSize), 6);
  EXPECT_EQ(hot(s, 1, f::kHydrogenCount, f::kHydrogenCountSize), 3);
}

TEST(AtomFeatures, ManyLigandsSpeed) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "pl_1a46_ligand.sdf");
  System s;
  const auto recs = read_ligand_file(path);
  for (int k = 0; k < 138; ++k) append_ligands(s, recs, 0, "L");  // 11,730 atoms
  const auto t0 = std::chrono::steady_clock::now();
  compute_atom_features(s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ info ] features of " << s.atom_count() << " ligand atoms (138 molecules) in " << seconds
            << " s\n";
  EXPECT_LT(seconds, 2.0);
  expect_valid_rows(s);
}

}  // namespace
}  // namespace hemeplm

// --- real receptors (load_system) -------------------------------------------------------------------

namespace hemeplm {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(AtomFeaturesReceptor, ChignolinWithAndWithoutHydrogensAgree) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "chignolin_cln025_capped_vac.pdb");
  const TempDir dir;
  std::string stripped;
  std::istringstream in(test::read_text(path));
  for (std::string line; std::getline(in, line);) {
    const bool atom = line.rfind("ATOM", 0) == 0 || line.rfind("HETATM", 0) == 0;
    if (atom && line.size() >= 78 && line.substr(76, 2) == " H") continue;
    stripped += line + "\n";
  }
  const System h = load_system({path, {}});
  const System heavy = load_system({dir.write("heavy.pdb", stripped), {}});
  ASSERT_EQ(h.atom_count(), 175);
  ASSERT_EQ(heavy.atom_count(), 97);
  expect_valid_rows(h);
  expect_valid_rows(heavy);
  int j = 0;
  for (int i = 0; i < h.atom_count(); ++i) {
    if (h.is_hydrogen(i)) continue;
    SCOPED_TRACE(h.residues[h.atom_residue[i]].name + " " + h.atom_names[i]);
    ASSERT_EQ(h.atom_names[i], heavy.atom_names[j]);
    for (int k : {f::kAromatic, f::kInRing, f::kDonor, f::kAcceptor, f::kConjugated})
      EXPECT_EQ(row(h, i)[k], row(heavy, j)[k]) << "feature " << k;
    EXPECT_EQ(hot(h, i, f::kHybridization, f::kHybridizationCount),
              hot(heavy, j, f::kHybridization, f::kHybridizationCount));
    EXPECT_EQ(hot(h, i, f::kHydrogenCount, f::kHydrogenCountSize),
              hot(heavy, j, f::kHydrogenCount, f::kHydrogenCountSize));
    EXPECT_EQ(hot(h, i, f::kHeavyDegree, f::kHeavyDegreeSize),
              hot(heavy, j, f::kHeavyDegree, f::kHeavyDegreeSize));
    EXPECT_EQ(hot(h, i, f::kFormalCharge, f::kFormalChargeSize),
              hot(heavy, j, f::kFormalCharge, f::kFormalChargeSize));
    EXPECT_EQ(hot(h, i, f::kChirality, f::kChiralityCount), hot(heavy, j, f::kChirality, f::kChiralityCount));
    for (int k = 0; k < f::kRingSizeCount; ++k)
      EXPECT_EQ(row(h, i)[f::kRingSize + k], row(heavy, j)[f::kRingSize + k]);
    ++j;
  }
  // Every CA of an L-amino acid but Gly is S (Cys would be R; CLN025 has none).
  for (int i = 0; i < h.atom_count(); ++i) {
    const std::string& res = h.residues[h.atom_residue[i]].name;
    if (h.atom_names[i] == "CA" && res != "GLY") {
      EXPECT_EQ(hot(h, i, f::kChirality, f::kChiralityCount), 2) << res;
    }
  }
}

TEST(AtomFeaturesReceptor, LargeComplexSpeed) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  System s = load_system({receptor, {ligand}});
  EXPECT_EQ(s.atom_count(), 11685 + 29);
  const auto t0 = std::chrono::steady_clock::now();
  compute_atom_features(s);
  const double seconds = seconds_since(t0);
  std::cout << "[ info ] features of " << s.atom_count() << " atoms (1S63 + ligand) in " << seconds << " s\n";
  expect_valid_rows(s);
#ifdef NDEBUG
  EXPECT_LT(seconds, 2.0);
#endif
}

TEST(AtomFeaturesReceptor, SolvatedDhfrSpeed) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_dhfr_solvated_23558.pdb");
  System s = load_system({path, {}});
  EXPECT_EQ(s.atom_count(), 23558);
  const auto t0 = std::chrono::steady_clock::now();
  compute_atom_features(s);
  const double seconds = seconds_since(t0);
  std::cout << "[ info ] features of " << s.atom_count() << " atoms (DHFR in water) in " << seconds << " s\n";
  expect_valid_rows(s);
#ifdef NDEBUG
  EXPECT_LT(seconds, 3.0);
#endif
}

}  // namespace
}  // namespace hemeplm

namespace hemeplm {
namespace {

/// Fraction of amino-acid CA atoms (Gly excluded) with the CIP label of an L-amino acid (Cys: R).
double l_amino_acid_fraction(const System& s, int* count) {
  int good = 0, total = 0;
  for (int i = 0; i < s.atom_count(); ++i) {
    const Residue& r = s.residues[s.atom_residue[i]];
    if (r.kind != ResidueKind::kAminoAcid || s.atom_names[i] != "CA" || r.name == "GLY") continue;
    const bool cys = r.name == "CYS" || r.name == "CYX" || r.name == "CYM";
    ++total;
    good += hot(s, i, f::kChirality, f::kChiralityCount) == (cys ? 1 : 2);
  }
  *count = total;
  return total ? static_cast<double>(good) / total : 0.0;
}

TEST(AtomFeaturesReceptor, RealProteinsHaveLAminoAcidsAndAromaticRings) {
  for (const char* name :
       {"big_1s63_ftase_proteinH.pdb", "big_dhfr_solvated_23558.pdb", "big_3wip_achbp_heavy.pdb",
        "nr_lbd_6a22_rorg_ligand_xtal.pdb", "pl_1a46_thrombin_protein.pdb", "chignolin_cln025_5awl_xtal.pdb",
        "trpcage_1l2y_nmr.pdb"}) {
    SCOPED_TRACE(name);
    HEMEPLM_REQUIRE_SHARED_DATA(path, name);
    const auto t0 = std::chrono::steady_clock::now();
    const System s = load_system({path, {}});
    const double load = seconds_since(t0);
    expect_valid_rows(s);
    int cas = 0;
    const double fraction = l_amino_acid_fraction(s, &cas);
    int aromatic = 0, phe_ring = 0, phe_ring_aromatic = 0;
    for (int i = 0; i < s.atom_count(); ++i) {
      aromatic += row(s, i)[f::kAromatic] == 1.0f;
      const Residue& r = s.residues[s.atom_residue[i]];
      if ((r.name == "PHE" || r.name == "TYR") && (s.atom_names[i] == "CZ" || s.atom_names[i] == "CE1")) {
        ++phe_ring;
        phe_ring_aromatic += row(s, i)[f::kAromatic] == 1.0f;
      }
    }
    std::cout << "[ info ] " << name << ": " << s.atom_count() << " atoms loaded with features in " << load
              << " s; " << cas << " CA, L fraction " << fraction << ", aromatic atoms " << aromatic << "\n";
    EXPECT_GT(cas, 0);
    EXPECT_GE(fraction, 0.98);
    EXPECT_EQ(phe_ring_aromatic, phe_ring);
  }
}

}  // namespace
}  // namespace hemeplm
