// H5MD writer and reader on one rank: round trip of every dataset and of the System, MDAnalysis reading
// our files and us reading MDAnalysis' files, and one-line errors for damaged or foreign files.
#include "hemeplm/parallel_io/h5md.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "h5md_test_frames.hpp"
#include "hdf5_handles.hpp"
#include "hemeplm/core/error.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

using test::TempDir;

bool mdanalysis_available() {
  static const bool available =
      test::run_command({HEMEPLM_PYTHON, "-c", "import MDAnalysis"}, 60).exit_status == 0;
  return available;
}

std::string script() {
  return test::source_file("tests/parallel_io/mdanalysis_check.py");
}

/// Writes `frames` test frames of `system` on one rank; `nan_frame` gets a NaN position.
void write_file(const std::string& path, const System& system, int frames, int chunk, int nan_frame = -1) {
  H5mdWriter writer(MPI_COMM_SELF, path, system, {0, system.atom_count()}, test::test_writer_options(chunk));
  for (int f = 0; f < frames; ++f) {
    if (f == nan_frame) {
      std::vector<Vec3> positions(system.atom_count(), Vec3{1, 2, 3}), zeros(system.atom_count());
      positions[7].y = std::numeric_limits<double>::quiet_NaN();
      const Box box = test::test_box(f);
      const std::vector<double> observables{0.0, 0.0};
      FrameView view;
      view.positions = positions, view.velocities = zeros, view.forces = zeros;
      view.box = &box, view.observables = observables, view.step = f, view.time_ps = f;
      writer.append(view);
    } else {
      test::append_test_frames(writer, system, {0, system.atom_count()}, f, 1);
    }
  }
  writer.close();
}

/// The InputError message of `action`, checking that it is one line and HDF5 printed nothing.
template <class Action>
std::string input_error(Action action) {
  ::testing::internal::CaptureStderr();
  std::string message;
  try {
    action();
  } catch (const InputError& error) {
    message = error.what();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "HDF5 printed its error stack";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(message.empty()) << "no InputError thrown";
  return message;
}

class H5mdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { system_ = std::make_unique<System>(test::h5md_test_system()); }
  static void TearDownTestSuite() { system_.reset(); }
  static std::unique_ptr<System> system_;
  TempDir dir_;
};
std::unique_ptr<System> H5mdTest::system_;

TEST_F(H5mdTest, RoundTripOfFramesTopologyAndIndex) {
  const System& system = *system_;
  const int n = system.atom_count();
  const std::string path = (dir_.path() / "round.h5md").string();
  {
    H5mdWriter writer(MPI_COMM_SELF, path, system, {0, n}, test::test_writer_options(8));
    writer.begin_trajectory("first.dcd", 0.0);  // dt inferred from the frames' times
    test::append_test_frames(writer, system, {0, n}, 0, 13);
    writer.flush();  // a partial chunk, continued by the next appends
    test::append_test_frames(writer, system, {0, n}, 13, 7);
    writer.begin_trajectory("second.xtc", 0.2);
    test::append_test_frames(writer, system, {0, n}, 20, 25);
    EXPECT_EQ(writer.frames_appended(), 45);
    writer.close();
  }
  const H5mdReader reader(path);
  ASSERT_EQ(reader.atom_count(), n);
  ASSERT_EQ(reader.frame_count(), 45);
  EXPECT_TRUE(reader.has_velocities());
  EXPECT_TRUE(reader.has_forces());
  EXPECT_EQ(reader.observable_names(), (std::vector<std::string>{"potential_energy", "temperature"}));
  const std::vector<std::int64_t> steps = reader.steps();
  const std::vector<double> times = reader.times_ps();
  const std::vector<double> energies = reader.read_observable("potential_energy", 0, 45);
  for (int f = 0; f < 45; ++f) {
    EXPECT_EQ(steps[f], test::test_step(f));
    EXPECT_DOUBLE_EQ(times[f], test::test_time(f));
    EXPECT_DOUBLE_EQ(energies[f], test::test_energy(f));
    const std::optional<Box> box = reader.box(f);
    ASSERT_TRUE(box);
    EXPECT_NEAR(box->vectors[0].x, test::test_box(f).vectors[0].x, 1e-4);
  }
  std::vector<Vec3> positions(45 * 50), velocities(45 * 50), forces(45 * 50);
  const AtomRange atoms{300, 50};
  reader.read_positions(0, 45, atoms, positions);
  reader.read_velocities(0, 45, atoms, velocities);
  reader.read_forces(0, 45, atoms, forces);
  for (int f = 0; f < 45; ++f) {
    for (int k = 0; k < atoms.count; ++k) {
      const int i = atoms.first + k;
      const Vec3 p = test::test_position(system, f, i), v = test::test_velocity(f, i),
                 g = test::test_force(f, i);
      for (int c = 0; c < 3; ++c) {
        ASSERT_FLOAT_EQ(static_cast<float>(positions[f * atoms.count + k][c]), static_cast<float>(p[c]));
        ASSERT_FLOAT_EQ(static_cast<float>(velocities[f * atoms.count + k][c]), static_cast<float>(v[c]));
        ASSERT_FLOAT_EQ(static_cast<float>(forces[f * atoms.count + k][c]), static_cast<float>(g[c]));
      }
    }
  }
  const std::vector<TrajectoryInfo> index = reader.trajectories();
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].source, "first.dcd");
  EXPECT_EQ(index[0].frame_count, 20);
  EXPECT_NEAR(index[0].dt_ps, 0.2, 1e-12);
  EXPECT_EQ(index[1].first_frame, 20);
  EXPECT_EQ(index[1].frame_count, 25);
  EXPECT_EQ(reader.config_json(), R"({"chunk_frames":8})");
  EXPECT_EQ(reader.provenance_json(), R"({"program":"h5md test"})");

  // The System comes back whole, features recomputed from the stored chemistry.
  const System back = reader.read_system();
  EXPECT_EQ(back.atom_names, system.atom_names);
  EXPECT_EQ(back.atomic_numbers, system.atomic_numbers);
  EXPECT_EQ(back.formal_charges, system.formal_charges);
  EXPECT_EQ(back.atom_residue, system.atom_residue);
  EXPECT_EQ(back.features, system.features);
  ASSERT_EQ(back.residue_count(), system.residue_count());
  for (int r = 0; r < system.residue_count(); ++r) {
    EXPECT_EQ(back.residues[r].name, system.residues[r].name);
    EXPECT_EQ(back.residues[r].seq, system.residues[r].seq);
    EXPECT_EQ(back.residues[r].first_atom, system.residues[r].first_atom);
    EXPECT_EQ(back.residues[r].kind, system.residues[r].kind);
    EXPECT_EQ(back.residues[r].molecule, system.residues[r].molecule);
  }
  ASSERT_EQ(back.bonds.size(), system.bonds.size());
  for (std::size_t b = 0; b < system.bonds.size(); ++b) {
    EXPECT_EQ(back.bonds[b].a, system.bonds[b].a);
    EXPECT_EQ(back.bonds[b].b, system.bonds[b].b);
    EXPECT_EQ(back.bonds[b].order, system.bonds[b].order);
  }
  ASSERT_EQ(back.chains.size(), system.chains.size());
  ASSERT_EQ(back.molecules.size(), system.molecules.size());
  for (std::size_t m = 0; m < system.molecules.size(); ++m) {
    EXPECT_EQ(back.molecules[m].kind, system.molecules[m].kind);
    EXPECT_EQ(back.molecules[m].residues, system.molecules[m].residues);
    EXPECT_EQ(back.molecules[m].atom_count, system.molecules[m].atom_count);
  }
  ASSERT_TRUE(back.box);
  EXPECT_NEAR(back.positions[5].x, test::test_position(system, 0, 5).x, 1e-4);
}

/// The expected values mdanalysis_check.py asserts, for frames `frames` of a test file.
nlohmann::json expected_values(const System& system, std::int64_t frame_count,
                               const std::vector<int>& frames) {
  nlohmann::json expected{
      {"atoms", system.atom_count()}, {"frames", frame_count}, {"checks", nlohmann::json::array()}};
  for (int f : frames) {
    nlohmann::json check{{"frame", f},
                         {"time", test::test_time(f)},
                         {"step", test::test_step(f)},
                         {"potential_energy", test::test_energy(f)}};
    const Box box = test::test_box(f);
    check["dimensions"] = {box.vectors[0].x, box.vectors[1].y, box.vectors[2].z, 90.0, 90.0, 90.0};
    for (int i : {0, 1, 200, system.atom_count() - 1}) {
      const Vec3 p = test::test_position(system, f, i);
      check["atoms"].push_back(i);
      check["positions"].push_back({p.x, p.y, p.z});
    }
    expected["checks"].push_back(check);
  }
  return expected;
}

TEST_F(H5mdTest, MdanalysisReadsOurFile) {
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot check";
  const std::string path = (dir_.path() / "ours.h5md").string();
  write_file(path, *system_, 11, 4);
  const std::string expected = dir_.write("expected.json", expected_values(*system_, 11, {0, 5, 10}).dump());
  const test::CommandResult pdb = test::run_command(
      {HEMEPLM_PYTHON, script(), path, test::source_file("inputs/example/complex.pdb"), expected});
  EXPECT_EQ(pdb.exit_status, 0) << pdb.out << pdb.err;
}

TEST_F(H5mdTest, ReadsMdanalysisFileInNanometres) {
  if (!mdanalysis_available())
    GTEST_SKIP() << HEMEPLM_PYTHON << " -c 'import MDAnalysis' fails: cannot check";
  const std::string path = (dir_.path() / "theirs.h5md").string();
  const test::CommandResult made =
      test::run_command({HEMEPLM_PYTHON, script(), "--write-mdanalysis", path, "7", "4"});
  ASSERT_EQ(made.exit_status, 0) << made.out << made.err;
  const H5mdReader reader(path);
  ASSERT_EQ(reader.atom_count(), 7);
  ASSERT_EQ(reader.frame_count(), 4);
  std::vector<Vec3> p(28), v(28), g(28);
  reader.read_positions(0, 4, {0, 7}, p);
  reader.read_velocities(0, 4, {0, 7}, v);
  reader.read_forces(0, 4, {0, 7}, g);
  const std::vector<double> times = reader.times_ps();
  for (int f = 0; f < 4; ++f) {
    EXPECT_NEAR(times[f], 2.0 * f, 1e-9);
    EXPECT_NEAR(reader.box(f)->vectors[0].x, 40.0 + f, 1e-4);
    EXPECT_NEAR(reader.box(f)->vectors[2].z, 42.0, 1e-4);
    for (int i = 0; i < 7; ++i) {  // reference_values() in mdanalysis_check.py, converted back from nm
      const Vec3& pi = p[f * 7 + i];
      EXPECT_NEAR(pi.x, 0.1 * i + f, 1e-4);
      EXPECT_NEAR(pi.y, -0.05 * i, 1e-4);
      EXPECT_NEAR(pi.z, 0.5 * f, 1e-4);
      EXPECT_NEAR(v[f * 7 + i].x, 1.0 + f, 1e-4);
      EXPECT_NEAR(g[f * 7 + i].y, -0.1 * i, 1e-4);
      EXPECT_NEAR(g[f * 7 + i].z, 3.0, 1e-4);
    }
  }
  EXPECT_EQ(reader.trajectories().size(), 1u);
  const std::string message = input_error([&] { reader.read_system(); });
  EXPECT_NE(message.find("/parameters/hemeplm/topology: missing group"), std::string::npos) << message;
}

// ---- damaged and foreign files ------------------------------------------------------------------

/// Opens `path` read-write with the serial driver for surgery on a good file.
h5::File open_rw(const std::string& path) {
  return h5::File(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
}

TEST_F(H5mdTest, DamagedAndForeignFilesGiveOneLineErrors) {
  const std::string good = (dir_.path() / "good.h5md").string();
  write_file(good, *system_, 9, 4);
  auto copy = [&](const std::string& name) {
    const std::string path = (dir_.path() / name).string();
    std::filesystem::copy_file(good, path);
    return path;
  };
  auto open_error = [&](const std::string& path) { return input_error([&] { H5mdReader reader(path); }); };

  const std::string truncated = copy("truncated.h5md");
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 2);
  EXPECT_NE(open_error(truncated).find("truncated or corrupt"), std::string::npos);

  EXPECT_NE(open_error(dir_.write("text.h5md", "not hdf5\n")).find("not an HDF5 file"), std::string::npos);
  EXPECT_NE(open_error((dir_.path() / "absent.h5md").string()).find("no such file"), std::string::npos);

  const std::string foreign = (dir_.path() / "foreign.h5").string();
  {
    const h5::File file(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    const std::vector<double> data{1, 2, 3};
    h5::write_dataset(file.get(), "numbers", {3}, data.data());
  }
  EXPECT_EQ(open_error(foreign), foreign + ": /particles: missing group: not an H5MD trajectory");

  const std::string no_unit = copy("no_unit.h5md");
  H5Adelete(h5::Dataset(H5Dopen2(open_rw(no_unit).get(), "/particles/trajectory/position/value", H5P_DEFAULT))
                .get(),
            "unit");
  EXPECT_EQ(open_error(no_unit),
            no_unit + ": /particles/trajectory/position/value: missing 'unit' attribute");

  const std::string no_time_unit = copy("no_time_unit.h5md");
  H5Adelete(
      h5::Dataset(H5Dopen2(open_rw(no_time_unit).get(), "/particles/trajectory/position/time", H5P_DEFAULT))
          .get(),
      "unit");
  EXPECT_EQ(open_error(no_time_unit),
            no_time_unit + ": /particles/trajectory/position/time: missing 'unit' attribute");

  const std::string odd_unit = copy("odd_unit.h5md");
  {
    const h5::File file = open_rw(odd_unit);
    const h5::Dataset set(H5Dopen2(file.get(), "/particles/trajectory/force/value", H5P_DEFAULT));
    H5Adelete(set.get(), "unit");
    h5::write_string_attribute(set.get(), "unit", "nm");  // a length, not a force
  }
  EXPECT_EQ(open_error(odd_unit),
            odd_unit + ": /particles/trajectory/force/value: unit 'nm' is not a force unit hemeplm knows");

  const std::string no_box = copy("no_box.h5md");
  H5Ldelete(open_rw(no_box).get(), "/particles/trajectory/box", H5P_DEFAULT);
  EXPECT_EQ(open_error(no_box), no_box + ": /particles/trajectory/box: missing group (H5MD requires it)");

  const std::string species = copy("species.h5md");
  {
    const h5::File file = open_rw(species);
    H5Ldelete(file.get(), "/particles/trajectory/species", H5P_DEFAULT);
    const std::vector<std::int32_t> z(5, 6);
    h5::write_dataset(file.get(), "/particles/trajectory/species", {5}, z.data());
  }
  EXPECT_NE(open_error(species).find("/particles/trajectory/species: shape [5] does not match the 401 atoms"),
            std::string::npos);

  const std::string shape = copy("shape.h5md");
  {
    const h5::File file = open_rw(shape);
    H5Ldelete(file.get(), "/particles/trajectory/position/value", H5P_DEFAULT);
    const std::vector<float> xy(9 * 401 * 2, 0.f);
    h5::write_dataset(file.get(), "/particles/trajectory/position/value", {9, 401, 2}, xy.data());
  }
  EXPECT_EQ(open_error(shape),
            shape + ": /particles/trajectory/position/value: shape [9][401][2] is not [frames][atoms][3]");

  const std::string nan = (dir_.path() / "nan.h5md").string();
  write_file(nan, *system_, 14, 4, 12);
  const H5mdReader reader(nan);
  std::vector<Vec3> frames(14 * 401);
  EXPECT_EQ(input_error([&] {
              reader.read_positions(0, 14, {0, 401}, frames);
            }),
            nan + ": /particles/trajectory/position/value: frame 12 has non-finite positions");
  std::vector<Vec3> first(12 * 401);
  reader.read_positions(0, 12, {0, 401}, first);  // the frames before are fine
}

}  // namespace
}  // namespace hemeplm::parallel_io
