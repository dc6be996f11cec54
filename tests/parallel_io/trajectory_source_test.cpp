// Trajectory import: every reader against MDAnalysis on the same public files, against each other, and
// against damaged files (truncated, empty, garbled), which must give one-line InputErrors naming the
// frame or line and never crash.
#include "hemeplm/parallel_io/trajectory_source.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/features.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using parallel_io::open_trajectory;
using parallel_io::TrajectoryFrame;
namespace test = hemeplm::test;

std::vector<TrajectoryFrame> read_all(const std::string& path) {
  auto source = open_trajectory(path);
  std::vector<TrajectoryFrame> frames;
  TrajectoryFrame frame;
  while (source->next(frame)) {
    EXPECT_EQ(static_cast<int>(frame.positions.size()), source->atom_count());
    frames.push_back(frame);
  }
  return frames;
}

double max_deviation(const TrajectoryFrame& a, const TrajectoryFrame& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.positions.size(); ++i)
    worst = std::max(worst, norm(a.positions[i] - b.positions[i]));
  return worst;
}

std::string script() {
  return test::source_file("tests/parallel_io/trajectory_reference.py");
}

bool mdanalysis_available() {
  return test::run_command({HEMEPLM_PYTHON, "-c", "import MDAnalysis"}, 60).exit_status == 0;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// The message of the InputError that reading the whole file throws ("" if none).
std::string import_error(const std::string& path) {
  try {
    read_all(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

struct Reference {
  std::vector<double> times;
  std::vector<Box> boxes;
  std::vector<std::vector<Vec3>> positions;
};

Reference mdanalysis_reference(const test::TempDir& dir, const std::string& topology,
                               const std::string& trajectory) {
  const std::string out = (dir.path() / "reference.bin").string();
  const auto result = test::run_command({HEMEPLM_PYTHON, script(), "dump", topology, trajectory, out}, 300);
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::string bytes = read_bytes(out);
  std::vector<double> v(bytes.size() / 8);
  std::memcpy(v.data(), bytes.data(), v.size() * 8);
  Reference ref;
  if (v.size() < 2) return ref;
  const auto frames = static_cast<std::size_t>(v[0]), atoms = static_cast<std::size_t>(v[1]);
  EXPECT_EQ(v.size(), 2 + frames * (10 + 3 * atoms));
  std::size_t k = 2;
  for (std::size_t f = 0; f < frames && k + 10 + 3 * atoms <= v.size(); ++f) {
    ref.times.push_back(v[k++]);
    Box box;
    for (auto& row : box.vectors) row = {v[k], v[k + 1], v[k + 2]}, k += 3;
    ref.boxes.push_back(box);
    std::vector<Vec3> xyz(atoms);
    for (auto& r : xyz) r = {v[k], v[k + 1], v[k + 2]}, k += 3;
    ref.positions.push_back(std::move(xyz));
  }
  return ref;
}

// Compares with MDAnalysis and returns the largest position deviation (Å).
// `same_box_presence`: false for multi-model PDB, where a CRYST1 before the first MODEL applies to every
// model for us (PDB semantics, as load_system reads it) but MDAnalysis only reads CRYST1 inside a model.
double compare_with_mdanalysis(const std::string& topology, const std::string& trajectory, int frames,
                               int atoms, bool same_box_presence = true) {
  test::TempDir dir;
  const Reference ref = mdanalysis_reference(dir, topology, trajectory);
  const std::vector<TrajectoryFrame> ours = read_all(trajectory);
  EXPECT_EQ(static_cast<int>(ours.size()), frames);
  EXPECT_EQ(ref.positions.size(), ours.size());
  double worst = 0;
  for (std::size_t f = 0; f < std::min(ours.size(), ref.positions.size()); ++f) {
    EXPECT_EQ(static_cast<int>(ours[f].positions.size()), atoms);
    EXPECT_NEAR(ours[f].time_ps, ref.times[f], 1e-3) << "frame " << f;
    for (std::size_t i = 0; i < ours[f].positions.size(); ++i) {
      worst = std::max(worst, norm(ours[f].positions[i] - ref.positions[f][i]));
    }
    const bool ref_has_box = ref.boxes[f].vectors[0].x != 0;
    if (same_box_presence) {
      EXPECT_EQ(ours[f].box.has_value(), ref_has_box) << "frame " << f;
    }
    if (ours[f].box && ref_has_box) {
      for (int r = 0; r < 3; ++r) {
        EXPECT_LT(norm(ours[f].box->vectors[r] - ref.boxes[f].vectors[r]), 1e-3)
            << "frame " << f << " box row " << r;
      }
    }
  }
  EXPECT_LE(worst, 1e-3) << trajectory;
  std::printf("[ MDAnalysis ] %s: %zu frames, max position deviation %.3g Å\n",
              std::filesystem::path(trajectory).filename().c_str(), ours.size(), worst);
  return worst;
}

TEST(TrajectorySource, Ala2XtcMatchesMDAnalysis) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot compare";
  compare_with_mdanalysis(top, xtc, 501, 22);
  const auto frames = read_all(xtc);
  EXPECT_EQ(frames.front().step, 250000);
  EXPECT_NEAR(frames.front().time_ps, 500.0, 1e-4);  // XTC stores float32 times
  EXPECT_NEAR(frames.back().time_ps, 1000.0, 1e-4);
  EXPECT_FALSE(parallel_io::trajectory_has_topology(xtc));
}

TEST(TrajectorySource, Ala2DcdMatchesMDAnalysis) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot compare";
  compare_with_mdanalysis(top, dcd, 501, 22);
}

TEST(TrajectorySource, Ala2MultiModelPdbMatchesMDAnalysis) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_501frames_multimodel.pdb");
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot compare";
  compare_with_mdanalysis("-", pdb, 501, 22, false);
  // The file's only CRYST1 (10 Å cube) precedes MODEL 0: the whole trajectory's cell for us.
  const auto frames = read_all(pdb);
  ASSERT_TRUE(frames.back().box.has_value());
  EXPECT_EQ(frames.back().box->vectors[1].y, 10.0);
  EXPECT_TRUE(parallel_io::trajectory_has_topology(pdb));
}

TEST(TrajectorySource, Ala2FormatsAgree) {
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_501frames_multimodel.pdb");
  const auto a = read_all(xtc), b = read_all(dcd), c = read_all(pdb);
  ASSERT_EQ(a.size(), 501u);
  ASSERT_EQ(b.size(), 501u);
  ASSERT_EQ(c.size(), 501u);
  for (std::size_t f = 0; f < a.size(); ++f) {
    EXPECT_LT(max_deviation(a[f], b[f]), 0.02) << "frame " << f;  // XTC keeps 0.001 nm
    EXPECT_LT(max_deviation(b[f], c[f]), 0.02) << "frame " << f;  // the PDB copy was rounded separately
  }
}

TEST(TrajectorySource, TrpCageXtcDcdAndNmrModelsAgree) {
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "trpcage_1l2y_38frames.xtc");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "trpcage_1l2y_38frames.dcd");
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "trpcage_1l2y_nmr.pdb");
  const auto a = read_all(xtc), b = read_all(dcd), c = read_all(pdb);
  ASSERT_EQ(a.size(), 38u);
  ASSERT_EQ(b.size(), 38u);
  ASSERT_EQ(c.size(), 38u);
  double worst_xtc = 0, worst_dcd = 0;
  for (std::size_t f = 0; f < a.size(); ++f) {
    ASSERT_EQ(a[f].positions.size(), 304u);
    worst_xtc = std::max(worst_xtc, max_deviation(a[f], c[f]));
    worst_dcd = std::max(worst_dcd, max_deviation(b[f], c[f]));
  }
  EXPECT_LE(worst_xtc, 0.01);  // XTC precision 0.001 nm
  EXPECT_LE(worst_dcd, 1e-3);  // float32 of 3-decimal PDB values
  EXPECT_FALSE(c.front().box.has_value()) << "1 Å CRYST1 of NMR entries is no cell";
  // Model 0 of the trajectory is the System load_system builds from the same file, atom for atom.
  const System system = load_system({pdb, {}});
  ASSERT_EQ(system.atom_count(), 304);
  for (int i = 0; i < 304; ++i) EXPECT_EQ(system.positions[i], c.front().positions[i]) << "atom " << i;
}

TEST(TrajectorySource, TrrWrittenByMDAnalysisMatchesXtc) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot write TRR";
  test::TempDir dir;
  const std::string trr = (dir.path() / "ala2.trr").string();
  const auto result = test::run_command({HEMEPLM_PYTHON, script(), "trr", top, xtc, trr}, 300);
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto a = read_all(xtc), b = read_all(trr);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t f = 0; f < a.size(); ++f) {
    EXPECT_LT(max_deviation(a[f], b[f]), 1e-4);
    EXPECT_EQ(a[f].step, b[f].step);
    EXPECT_NEAR(a[f].time_ps, b[f].time_ps, 1e-4);
    ASSERT_EQ(b[f].velocities.size(), 22u);
    ASSERT_EQ(b[f].forces.size(), 22u);
    for (int i = 0; i < 22; ++i) {
      EXPECT_LT(norm(b[f].velocities[i] - 0.5 * a[f].positions[i]), 1e-3);
      EXPECT_LT(norm(b[f].forces[i] - 2.0 * a[f].positions[i]), 1e-3);
    }
  }
}

TEST(TrajectorySource, DcdByteSwappedAnd64BitMarkers) {
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  test::TempDir dir;
  const std::string swapped = (dir.path() / "swapped.dcd").string();
  const std::string wide = (dir.path() / "wide.dcd").string();
  const auto result = test::run_command({HEMEPLM_PYTHON, script(), "dcd-variants", dcd, swapped, wide}, 120);
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto a = read_all(dcd), b = read_all(swapped), c = read_all(wide);
  ASSERT_EQ(b.size(), a.size());
  ASSERT_EQ(c.size(), a.size());
  for (std::size_t f = 0; f < a.size(); ++f) {
    EXPECT_EQ(max_deviation(a[f], b[f]), 0.0);
    EXPECT_EQ(max_deviation(a[f], c[f]), 0.0);
    ASSERT_TRUE(a[f].box && b[f].box && c[f].box);
    EXPECT_EQ(a[f].box->vectors[2], b[f].box->vectors[2]);
    EXPECT_EQ(a[f].time_ps, c[f].time_ps);
  }
  EXPECT_NE(open_trajectory(swapped)->description().find("byte-swapped"), std::string::npos);
}

TEST(TrajectorySource, EthanolExtxyzEnergiesAndForcesInKilojoules) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  const auto frames = read_all(xyz);
  ASSERT_EQ(frames.size(), 1000u);
  EXPECT_EQ(frames[0].positions.size(), 9u);
  // First frame, by hand from the file: energy=-4209.4657843064815 eV; atom 1 is
  // "C 0.40162460 0.38569419 0.07944170 -4.15950961 0.10729389 3.61777644".
  ASSERT_TRUE(frames[0].potential_energy.has_value());
  EXPECT_NEAR(*frames[0].potential_energy, -4209.4657843064815 * 96.485332, 1e-6);
  EXPECT_NEAR(*frames[0].potential_energy, -406151.7037, 1e-3);
  EXPECT_DOUBLE_EQ(frames[0].positions[0].x, 0.40162460);
  ASSERT_EQ(frames[0].forces.size(), 9u);
  EXPECT_NEAR(frames[0].forces[0].x, -4.15950961 * 96.485332, 1e-9);
  EXPECT_NEAR(frames[0].forces[0].z, 3.61777644 * 96.485332, 1e-9);
  EXPECT_FALSE(frames[0].box.has_value()) << "pbc=\"F F F\": the 50 Å Lattice is no periodic cell";
  for (const auto& frame : frames) ASSERT_TRUE(frame.potential_energy && frame.forces.size() == 9);
  EXPECT_TRUE(parallel_io::trajectory_has_topology(xyz));
}

TEST(TrajectorySource, ThreeBpaExtxyz) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "3bpa_train_300K.xyz");
  const auto frames = read_all(xyz);
  ASSERT_EQ(frames.size(), 500u);
  for (const auto& frame : frames) {
    ASSERT_EQ(frame.positions.size(), 27u);
    ASSERT_EQ(frame.forces.size(), 27u);
    ASSERT_TRUE(frame.potential_energy.has_value());
  }
  EXPECT_NEAR(*frames[0].potential_energy, -17660.461737861464 * 96.485332, 1e-6);
}

TEST(XyzStructure, LoadSystemBuildsEthanol) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  const System system = load_system({xyz, {}});
  ASSERT_EQ(system.atom_count(), 9);
  EXPECT_EQ(system.bonds.size(), 8u);
  for (const Bond& bond : system.bonds) EXPECT_EQ(bond.order, 1);
  ASSERT_EQ(system.residue_count(), 1);
  EXPECT_EQ(system.residues[0].name, "MOL");
  EXPECT_EQ(system.residues[0].kind, ResidueKind::kLigand);
  ASSERT_EQ(system.molecules.size(), 1u);
  EXPECT_EQ(system.molecules[0].kind, MoleculeKind::kLigand);
  ASSERT_EQ(system.chains.size(), 1u);
  EXPECT_EQ(system.chains[0].name, "A");
  EXPECT_EQ(system.features.size(), 9u * kAtomFeatureCount);
  int carbons = 0, oxygens = 0;
  for (int z : system.atomic_numbers) carbons += z == 6, oxygens += z == 8;
  EXPECT_EQ(carbons, 2);
  EXPECT_EQ(oxygens, 1);
  EXPECT_FALSE(system.box.has_value());
}

TEST(XyzStructure, SeparateMoleculesGetTheirOwnResidues) {
  test::TempDir dir;
  const std::string path = dir.write("two_waters.xyz",
                                     "6\nProperties=species:S:1:pos:R:3\n"
                                     "O 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
                                     "O 5 0 0\nH 5.96 0 0\nH 4.76 0.93 0\n");
  const System system = load_system({path, {}});
  EXPECT_EQ(system.bonds.size(), 4u);
  EXPECT_EQ(system.residue_count(), 2);
  EXPECT_EQ(system.molecules.size(), 2u);
}

// Extended XYZ -> H5mdWriter -> open_trajectory(.h5md): positions, forces and energies come back.
TEST(TrajectorySource, H5mdRoundTripOfEthanolFrames) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  test::TempDir dir;
  const std::string h5md = (dir.path() / "ethanol.h5md").string();
  const System system = load_system({xyz, {}});
  const auto frames = read_all(xyz);
  {
    parallel_io::H5mdWriterOptions options;
    options.forces = true;
    options.observables = {"potential_energy"};
    parallel_io::H5mdWriter writer(MPI_COMM_SELF, h5md, system, {0, system.atom_count()}, options);
    for (std::size_t f = 0; f < 100; ++f) {
      const double energy = *frames[f].potential_energy;
      parallel_io::FrameView view;
      view.step = frames[f].step;
      view.time_ps = frames[f].time_ps;
      view.positions = frames[f].positions;
      view.forces = frames[f].forces;
      view.observables = Span<const double>(&energy, 1);
      writer.append(view);
    }
    writer.close();
  }
  const auto back = read_all(h5md);
  ASSERT_EQ(back.size(), 100u);
  for (std::size_t f = 0; f < back.size(); ++f) {
    EXPECT_LT(max_deviation(back[f], frames[f]), 1e-5);  // float32 storage
    ASSERT_EQ(back[f].forces.size(), 9u);
    EXPECT_LT(norm(back[f].forces[0] - frames[f].forces[0]), 1e-3 * norm(frames[f].forces[0]) + 1e-3);
    ASSERT_TRUE(back[f].potential_energy.has_value());
    EXPECT_NEAR(*back[f].potential_energy, *frames[f].potential_energy, 1e-6 * 406152);
    EXPECT_EQ(back[f].step, frames[f].step);
  }
}

// ---- damaged input ---------------------------------------------------------------------------------

TEST(TrajectorySource, TruncatedXtcNamesTheFrame) {
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  test::TempDir dir;
  const std::string cut = (dir.path() / "cut.xtc").string();
  write_bytes(cut, read_bytes(xtc).substr(0, 40000));
  auto source = open_trajectory(cut);
  TrajectoryFrame frame;
  int read = 0;
  try {
    while (source->next(frame)) ++read;
    FAIL() << "no error for a truncated XTC";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("frame " + std::to_string(read)), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
  }
  EXPECT_GT(read, 200);
  // Cut inside the first frame's header, and a file of garbage.
  write_bytes(cut, read_bytes(xtc).substr(0, 30));
  EXPECT_NE(import_error(cut).find("frame 0"), std::string::npos);
  write_bytes(cut, std::string(1000, 'x'));
  EXPECT_NE(import_error(cut).find("not an XTC file"), std::string::npos);
}

TEST(TrajectorySource, TruncatedDcdNamesTheFrame) {
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  test::TempDir dir;
  const std::string cut = (dir.path() / "cut.dcd").string();
  const std::string bytes = read_bytes(dcd);
  write_bytes(cut, bytes.substr(0, bytes.size() - 100));
  const std::string message = import_error(cut);
  EXPECT_NE(message.find("frame 500"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  write_bytes(cut, bytes.substr(0, 150));
  EXPECT_NE(import_error(cut).find("header"), std::string::npos) << import_error(cut);
  // A garbled record marker inside frame 3.
  std::string garbled = bytes;
  const std::size_t frame_bytes = 3 * (22 * 4 + 8) + 56;
  const std::size_t frames_start = bytes.size() - 501 * frame_bytes;
  garbled[frames_start + 3 * frame_bytes + 56] = 7;  // leading marker of frame 3's X record
  write_bytes(cut, garbled);
  EXPECT_NE(import_error(cut).find("frame 3: garbled X record"), std::string::npos) << import_error(cut);
}

TEST(TrajectorySource, EmptyAndMissingFiles) {
  test::TempDir dir;
  for (const char* name : {"e.xtc", "e.trr", "e.dcd", "e.pdb", "e.xyz"}) {
    const std::string path = dir.write(name, "");
    const std::string message = import_error(path);
    EXPECT_NE(message.find("empty"), std::string::npos) << name << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  EXPECT_NE(import_error((dir.path() / "absent.xtc").string()).find("file not found"), std::string::npos);
  EXPECT_NE(import_error(dir.write("x.mol", "x")).find("unknown trajectory format"), std::string::npos);
}

TEST(TrajectorySource, PdbModelWithMissingAtom) {
  test::TempDir dir;
  const std::string atom1 =
      "ATOM      1  N   ALA A   1       1.000   2.000   3.000  1.00  0.00           N\n";
  const std::string atom2 =
      "ATOM      2  CA  ALA A   1       2.000   2.000   3.000  1.00  0.00           C\n";
  const std::string path = dir.write(
      "m.pdb", "MODEL        1\n" + atom1 + atom2 + "ENDMDL\nMODEL        2\n" + atom1 + "ENDMDL\nEND\n");
  const std::string message = import_error(path);
  EXPECT_NE(message.find("line 7 (model 2)"), std::string::npos) << message;
  EXPECT_NE(message.find("has 1 atoms, the first model has 2"), std::string::npos) << message;

  const std::string bad =
      dir.write("b.pdb", "MODEL        1\n" + atom1 +
                             "ATOM      2  CA  ALA A   1       2.000   nan     3.000  1.00  0.00\n"
                             "ENDMDL\n");
  EXPECT_NE(import_error(bad).find("line 3 (model 1): y coordinate 'nan' is not finite"), std::string::npos)
      << import_error(bad);
  // Alternate locations: the first one is kept, so both models have one atom.
  const std::string alt =
      "ATOM      1  N  AALA A   1       1.000   2.000   3.000  0.50  0.00\n"
      "ATOM      2  N  BALA A   1       1.500   2.000   3.000  0.50  0.00\n";
  const auto frames =
      read_all(dir.write("alt.pdb", "MODEL 1\n" + alt + "ENDMDL\nMODEL 2\n" + alt + "ENDMDL\n"));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].positions.size(), 1u);
  EXPECT_EQ(frames[1].positions[0].x, 1.0);
}

TEST(TrajectorySource, BadExtxyz) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  test::TempDir dir;
  const std::string text = read_bytes(xyz);
  // Truncated in the middle of frame 500 (11 lines per frame).
  std::size_t pos = 0;
  for (int line = 0; line < 500 * 11 + 5; ++line) pos = text.find('\n', pos) + 1;
  const std::string cut = dir.write("cut.xyz", text.substr(0, pos));
  std::string message = import_error(cut);
  EXPECT_NE(message.find("line 5505 (frame 500): file ends after 3 of 9 atom lines"), std::string::npos)
      << message;

  std::string with_nan = text;
  with_nan.replace(with_nan.find("0.38569419"), 10, "nan");
  message = import_error(dir.write("nan.xyz", with_nan));
  EXPECT_NE(message.find("line 3 (frame 0): position y 'nan' is not finite"), std::string::npos) << message;

  std::string garbled = text;
  garbled.replace(garbled.find("0.38569419"), 10, "0.38x69419");
  EXPECT_NE(import_error(dir.write("g.xyz", garbled)).find("is not a number"), std::string::npos);

  const std::string changed = dir.write("n.xyz",
                                        "1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n"
                                        "2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 1 0 0\n");
  EXPECT_NE(import_error(changed).find("line 4 (frame 1): frame has 2 atoms, frame 0 has 1"),
            std::string::npos)
      << import_error(changed);
  EXPECT_THROW(load_system({with_nan.empty() ? "" : dir.write("nan2.xyz", with_nan), {}}), InputError);
}

// Not a correctness test: prints frames/s for the record (Release build, warm page cache).
TEST(TrajectorySource, ImportSpeed) {
  for (const char* name : {"ala2_traj_501frames.xtc", "ala2_traj_501frames.dcd",
                           "rmd17_ethanol_1000_train.xyz", "ala2_traj_501frames_multimodel.pdb"}) {
    const std::string path = test::shared_data(name);
    if (path.empty()) continue;
    read_all(path);  // warm the page cache
    const auto start = std::chrono::steady_clock::now();
    std::size_t frames = 0;
    for (int repeat = 0; repeat < 5; ++repeat) frames += read_all(path).size();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ speed ] %s: %.0f frames/s\n", name, frames / seconds);
  }
}

}  // namespace
}  // namespace hemeplm
