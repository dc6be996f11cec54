// H5mdWriter: docs/h5md-layout.md written in two phases.
//  1. Rank 0 alone creates the file with the serial driver and writes every static object (H5MD
//     header, species/mass/charge, topology, VMD structure, connectivity, empty extensible series).
//     Parallel HDF5 1.10 cannot write variable-length strings, which the layout uses for names, and
//     one writer makes "identical metadata calls on all ranks" trivially true.
//  2. All ranks reopen it with MPI-IO and append frames: every chunk_frames appends, each extensible
//     dataset is extended (collective), each rank writes the hyperslab of its atoms and rank 0 writes
//     the per-frame scalars, all in one collective transfer per dataset, then H5Fflush.
// The file is created at <path> directly (an existing file is replaced): streaming needs the frames in
// the real file as they are flushed. Callers wanting "no partial file where a good one was" write to a
// temporary name and rename after close() (as `hemeplm prepare` does).
#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "h5md_topology.hpp"
#include "hdf5_handles.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr const char* kTrajectory = "/particles/trajectory";

/// The file-access list both phases share. Superblock versions above 2 (libver V110) add a
/// "file is open for writing" flag that a killed writer leaves set, after which neither HDF5 nor
/// h5py/MDAnalysis opens the file without h5clear; capping the format at 1.8 keeps killed files
/// readable. Large allocations (the position chunks) are aligned to 1 MiB, a common parallel file
/// system stripe size.
h5::Plist file_access(MPI_Comm comm, bool parallel) {
  h5::Plist fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
  H5Pset_alignment(fapl.get(), 512 * 1024, 1024 * 1024);
  if (parallel) {
    H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL);
    // Metadata reads by one rank and broadcast, metadata writes as one collective operation.
    H5Pset_all_coll_metadata_ops(fapl.get(), true);
    H5Pset_coll_metadata_write(fapl.get(), true);
  }
  return fapl;
}

/// An empty dataset [0][frame_dims...] extensible along frames, chunked [chunk][frame_dims...].
/// Storage is allocated when the extent grows and never filled: a fill pass would write every
/// chunk twice.
void create_series(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& frame_dims,
                   hsize_t chunk) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED}, chunk_dims{chunk};
  for (hsize_t d : frame_dims) dims.push_back(d), max_dims.push_back(d), chunk_dims.push_back(d);
  const h5::Space space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()));
  const h5::Plist dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunk_dims.size()), chunk_dims.data());
  H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  const h5::Dataset set(
      H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!set.valid()) throw h5::Failure(name, "cannot create dataset");
}

void set_unit(hid_t loc, const std::string& dataset, const std::string& unit) {
  const h5::Dataset set(H5Dopen2(loc, dataset.c_str(), H5P_DEFAULT));
  h5::write_string_attribute(set.get(), "unit", unit);
}

/// A time-dependent element {step, time, value}; step and time are hard links to position's, so every
/// element is sampled at the same frames by construction (H5MD allows this; readers see datasets).
void create_element(hid_t file, const std::string& group_path, const std::vector<hsize_t>& frame_dims,
                    hid_t type, hsize_t chunk, const std::string& unit) {
  const h5::Group group = h5::create_group(file, group_path);
  const std::string position = std::string(kTrajectory) + "/position";
  if (group_path == position) {
    create_series(group.get(), "step", H5T_STD_I64LE, {}, chunk);
    create_series(group.get(), "time", H5T_IEEE_F64LE, {}, chunk);
    set_unit(group.get(), "time", "ps");
  } else {
    for (const char* name : {"step", "time"})
      h5::check(
          H5Lcreate_hard(file, (position + "/" + name).c_str(), group.get(), name, H5P_DEFAULT, H5P_DEFAULT),
          group_path, "cannot link step/time");
  }
  create_series(group.get(), "value", type, frame_dims, chunk);
  if (!unit.empty()) set_unit(group.get(), "value", unit);
}

std::string observable_unit(const std::string& name) {
  const std::string suffix = "energy";
  const bool energy =
      name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return energy ? "kJ mol-1" : "";
}

/// Phase 1 (rank 0 only): the whole file except frames.
void create_file(const std::string& path, const System& system, const H5mdWriterOptions& options,
                 hsize_t chunk) {
  const h5::Plist fapl = file_access(MPI_COMM_SELF, false);
  h5::File file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!file.valid()) throw h5::Failure("/", "cannot create the file (missing folder or no permission?)");
  const hid_t f = file.get();
  const hsize_t n = static_cast<hsize_t>(system.atom_count());

  const h5::Group h5md = h5::create_group(f, "h5md");
  h5::write_int_attribute(h5md.get(), "version", {1, 1}, false);
  h5::write_string_attribute(h5::create_group(h5md.get(), "author").get(), "name", options.author);
  const h5::Group creator = h5::create_group(h5md.get(), "creator");
  h5::write_string_attribute(creator.get(), "name", "hemeplm");
  h5::write_string_attribute(creator.get(), "version", HEMEPLM_VERSION);

  h5::create_group(f, "particles");
  const h5::Group particles = h5::create_group(f, kTrajectory);
  create_element(f, std::string(kTrajectory) + "/position", {n, 3}, H5T_IEEE_F32LE, chunk, "Angstrom");
  const h5::Group box = h5::create_group(particles.get(), "box");
  h5::write_int_attribute(box.get(), "dimension", {3}, true);
  const std::string boundary = system.box ? "periodic" : "none";
  h5::write_strings_attribute(box.get(), "boundary", {boundary, boundary, boundary});
  if (system.box)
    create_element(f, std::string(kTrajectory) + "/box/edges", {3, 3}, H5T_IEEE_F32LE, chunk, "Angstrom");
  if (options.velocities)
    create_element(f, std::string(kTrajectory) + "/velocity", {n, 3}, H5T_IEEE_F32LE, chunk, "Angstrom ps-1");
  if (options.forces)
    create_element(f, std::string(kTrajectory) + "/force", {n, 3}, H5T_IEEE_F32LE, chunk,
                   "kJ mol-1 Angstrom-1");

  std::vector<double> mass(n), charge(n);
  for (hsize_t i = 0; i < n; ++i) {
    mass[i] = atomic_mass(system.atomic_numbers[i]);
    charge[i] = system.formal_charges[i];
  }
  const std::vector<std::int32_t> species(system.atomic_numbers.begin(), system.atomic_numbers.end());
  h5::write_dataset(particles.get(), "species", {n}, species.data());
  h5::write_dataset(particles.get(), "mass", {n}, mass.data());
  set_unit(particles.get(), "mass", "u");
  h5::write_dataset(particles.get(), "charge", {n}, charge.data());
  set_unit(particles.get(), "charge", "e");
  h5::write_string_attribute(h5::Dataset(H5Dopen2(particles.get(), "charge", H5P_DEFAULT)).get(), "type",
                             "formal");

  h5::create_group(f, "observables");
  for (std::size_t o = 0; o < options.observables.size(); ++o) {
    const std::string& name = options.observables[o];
    // Subgroups ("properties/gap") are created on first use.
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
      if (!h5::exists(f, "/observables/" + name.substr(0, slash)))
        h5::create_group(f, "/observables/" + name.substr(0, slash));
    const std::string unit =
        o < options.observable_units.size() ? options.observable_units[o] : observable_unit(name);
    create_element(f, "/observables/" + name, {}, H5T_IEEE_F64LE, chunk, unit);
  }

  h5::create_group(f, "parameters");
  const h5::Group hemeplm = h5::create_group(f, "/parameters/hemeplm");
  h5::write_string_attribute(hemeplm.get(), "format", "hemeplm-h5md");
  h5::write_int_attribute(hemeplm.get(), "format_version", {1}, true);
  h5::write_string_attribute(hemeplm.get(), "config", options.config_json);
  h5::write_string_attribute(hemeplm.get(), "provenance", options.provenance_json);
  write_topology(f, system);
  if (!file.close()) throw h5::Failure("/", "cannot close the file after writing its static part");
}

/// The dataset index, written by rank 0 with the serial driver after the collective close (it holds
/// variable-length strings).
void write_index(const std::string& path, const std::vector<TrajectoryInfo>& trajectories) {
  const h5::Plist fapl = file_access(MPI_COMM_SELF, false);
  const h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()));
  if (!file.valid()) throw h5::Failure("/", "cannot reopen the file to write the trajectory index");
  const h5::Group index = h5::create_group(file.get(), "/parameters/hemeplm/trajectories");
  std::vector<std::int64_t> first, count;
  std::vector<std::string> source;
  std::vector<double> dt;
  for (const TrajectoryInfo& t : trajectories) {
    first.push_back(t.first_frame), count.push_back(t.frame_count), source.push_back(t.source);
    dt.push_back(t.dt_ps);
  }
  const hsize_t size = trajectories.size();
  h5::write_dataset(index.get(), "first_frame", {size}, first.data());
  h5::write_dataset(index.get(), "frame_count", {size}, count.data());
  h5::write_strings_dataset(index.get(), "source", source);
  h5::write_dataset(index.get(), "dt_ps", {size}, dt.data());
}

/// Runs `work` on rank 0 and makes its outcome everybody's: either all ranks return or all throw the
/// same Error, so no rank waits forever in the next collective call.
template <class Work>
void on_root(MPI_Comm comm, int rank, const std::string& path, Work work) {
  std::string message;
  if (rank == 0) {
    try {
      work();
    } catch (const h5::Failure& failure) {
      message = path + ": " + failure.where() + ": " + failure.what();
    } catch (const std::exception& error) {
      message = path + ": " + error.what();
    }
  }
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  message.resize(length);
  MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  if (length > 0) throw Error(message);
}

}  // namespace

class H5mdWriter::Impl {
 public:
  Impl(MPI_Comm comm, const std::string& path, const System& system, AtomRange owned,
       const H5mdWriterOptions& options);
  void append(const FrameView& frame);
  void write_buffered();
  void flush();
  void close();
  void abandon();
  void begin_trajectory(const std::string& source, double dt_ps);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::string path_;
  H5mdWriterOptions options_;
  AtomRange owned_;
  hsize_t atoms_ = 0, chunk_ = 1;
  bool periodic_ = false, closed_ = false;

  h5::File file_;
  h5::Plist collective_;
  h5::Dataset position_, velocity_, force_, step_, time_, box_;
  std::vector<h5::Dataset> observables_;

  // Frames waiting for the next collective write; per-frame scalars matter on rank 0 only.
  std::vector<float> positions_, velocities_, forces_, boxes_;
  std::vector<std::int64_t> steps_;
  std::vector<double> times_, observable_values_;
  hsize_t buffered_ = 0, written_ = 0;
  double last_flush_ = MPI_Wtime();  // when the file was last flushed (rank 0's value decides)
  std::vector<TrajectoryInfo> trajectories_;
  std::vector<double> first_times_;  // times of the current trajectory's first two frames, for dt
};

H5mdWriter::Impl::Impl(MPI_Comm comm, const std::string& path, const System& system, AtomRange owned,
                       const H5mdWriterOptions& options)
    : comm_(comm),
      path_(path),
      options_(options),
      owned_(owned),
      atoms_(system.atom_count()),
      periodic_(system.box.has_value()) {
  h5::silence_errors();
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
  if (options.chunk_frames < 1) throw UsageError("H5MD writer: chunk_frames must be at least 1");
  if (!(options.flush_interval_s >= 0)) throw UsageError("H5MD writer: flush_interval_s must be >= 0");
  if (atoms_ == 0) throw UsageError("H5MD writer: " + path + ": the System has no atoms");
  // The ranges must tile [0, N) in rank order; every rank checks the same gathered list, so all throw.
  std::vector<int> ranges(2 * size_);
  const std::array<int, 2> mine{owned.first, owned.count};
  MPI_Allgather(mine.data(), 2, MPI_INT, ranges.data(), 2, MPI_INT, comm);
  int next = 0;
  for (int r = 0; r < size_; ++r) {
    if (ranges[2 * r] != next || ranges[2 * r + 1] < 0)
      throw UsageError("H5MD writer: the ranks' atom ranges do not partition the atoms in rank order");
    next += ranges[2 * r + 1];
  }
  if (next != static_cast<int>(atoms_))
    throw UsageError("H5MD writer: the ranks' atom ranges cover " + std::to_string(next) + " of " +
                     std::to_string(atoms_) + " atoms");
  // A chunk stays below 1 GiB (HDF5's limit is 4 GiB) whatever chunk_frames asks for.
  const hsize_t frame_bytes = atoms_ * 3 * sizeof(float);
  chunk_ = std::max<hsize_t>(1, std::min<hsize_t>(options.chunk_frames, (hsize_t{1} << 30) / frame_bytes));
  positions_.reserve(chunk_ * static_cast<hsize_t>(owned.count) * 3);

  on_root(comm, rank_, path, [&] { create_file(path, system, options, chunk_); });

  const h5::Plist fapl = file_access(comm, true);
  file_ = h5::File(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()));
  int opened = file_.valid() ? 1 : 0, all_opened = 0;
  MPI_Allreduce(&opened, &all_opened, 1, MPI_INT, MPI_MIN, comm);
  if (!all_opened) throw Error(path + ": cannot open the file with MPI-IO on every rank");
  collective_ = h5::Plist(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(collective_.get(), H5FD_MPIO_COLLECTIVE);
  const std::string t = kTrajectory;
  auto open = [&](const std::string& p) {
    return h5::Dataset(H5Dopen2(file_.get(), p.c_str(), H5P_DEFAULT));
  };
  position_ = open(t + "/position/value");
  step_ = open(t + "/position/step");
  time_ = open(t + "/position/time");
  if (periodic_) box_ = open(t + "/box/edges/value");
  if (options.velocities) velocity_ = open(t + "/velocity/value");
  if (options.forces) force_ = open(t + "/force/value");
  for (const std::string& name : options.observables)
    observables_.push_back(open("/observables/" + name + "/value"));
}

void H5mdWriter::Impl::begin_trajectory(const std::string& source, double dt_ps) {
  const std::int64_t frames = static_cast<std::int64_t>(written_ + buffered_);
  if (trajectories_.empty() && frames > 0) {
    const double dt = first_times_.size() == 2 ? first_times_[1] - first_times_[0] : 0.0;
    trajectories_.push_back({0, 0, std::filesystem::path(path_).filename().string(), dt});
  }
  trajectories_.push_back({frames, 0, source, dt_ps});
  first_times_.clear();
}

void H5mdWriter::Impl::append(const FrameView& frame) {
  if (closed_) throw UsageError("H5MD writer: " + path_ + ": append after close");
  const std::size_t n = static_cast<std::size_t>(owned_.count);
  auto store = [&](Span<const Vec3> values, std::vector<float>& buffer, const char* what) {
    if (values.size() != n)
      throw UsageError("H5MD writer: " + std::string(what) + " of " + std::to_string(values.size()) +
                       " atoms given, this rank owns " + std::to_string(n));
    // Hot loop (every atom of every frame): grow once, then plain stores.
    const std::size_t at = buffer.size();
    buffer.resize(at + 3 * values.size());
    float* out = buffer.data() + at;
    for (const Vec3& v : values) *out++ = float(v.x), *out++ = float(v.y), *out++ = float(v.z);
  };
  store(frame.positions, positions_, "positions");
  if (options_.velocities) store(frame.velocities, velocities_, "velocities");
  if (options_.forces) store(frame.forces, forces_, "forces");
  if (rank_ == 0) {
    if (periodic_ && frame.box == nullptr)
      throw UsageError("H5MD writer: the System is periodic but a frame has no box");
    if (frame.observables.size() != options_.observables.size())
      throw UsageError("H5MD writer: " + std::to_string(frame.observables.size()) +
                       " observable values given, " + std::to_string(options_.observables.size()) +
                       " declared");
    if (periodic_)
      for (const Vec3& v : frame.box->vectors)
        boxes_.insert(boxes_.end(), {float(v.x), float(v.y), float(v.z)});
    observable_values_.insert(observable_values_.end(), frame.observables.begin(), frame.observables.end());
    if (first_times_.size() < 2) first_times_.push_back(frame.time_ps);
    if (first_times_.size() == 2 && !trajectories_.empty() && trajectories_.back().dt_ps <= 0)
      trajectories_.back().dt_ps = first_times_[1] - first_times_[0];
  }
  steps_.push_back(frame.step);
  times_.push_back(frame.time_ps);
  if (++buffered_ == chunk_) {
    write_buffered();
    // Flushing syncs the file to disk; all ranks must take the same decision, so rank 0's clock rules.
    const double now = MPI_Wtime();
    int due = now - last_flush_ >= options_.flush_interval_s ? 1 : 0;
    MPI_Bcast(&due, 1, MPI_INT, 0, comm_);
    if (due) flush();
  }
}

void H5mdWriter::Impl::write_buffered() {
  // Collective extents must agree: a rank that appended a different number of frames is a caller bug
  // that would otherwise corrupt the file or hang, so every rank checks the same reduction.
  std::array<long long, 2> local{static_cast<long long>(buffered_), -static_cast<long long>(buffered_)},
      global{};
  MPI_Allreduce(local.data(), global.data(), 2, MPI_LONG_LONG, MPI_MAX, comm_);
  if (global[0] != -global[1]) throw Error(path_ + ": ranks appended different numbers of frames");
  if (buffered_ == 0) return;
  const hsize_t total = written_ + buffered_;
  const std::string where = path_ + ": " + kTrajectory;

  // Per-atom series: each rank its own hyperslab [written, total) x [first, first + count) x 3.
  auto write_atoms = [&](const h5::Dataset& set, const std::vector<float>& data) {
    const std::array<hsize_t, 3> extent{total, atoms_, 3};
    if (H5Dset_extent(set.get(), extent.data()) < 0) throw Error(where + ": cannot extend a dataset");
    const h5::Space file_space(H5Dget_space(set.get()));
    const std::array<hsize_t, 3> start{written_, hsize_t(owned_.first), 0},
        count{buffered_, hsize_t(owned_.count), 3};
    const h5::Space memory(H5Screate_simple(3, count.data(), nullptr));
    if (owned_.count == 0) {
      H5Sselect_none(file_space.get());
      H5Sselect_none(memory.get());
    } else {
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    }
    if (H5Dwrite(set.get(), H5T_NATIVE_FLOAT, memory.get(), file_space.get(), collective_.get(),
                 data.data()) < 0)
      throw Error(where + ": collective write of frames failed");
  };
  // Per-frame series: rank 0's values, written by rank 0 inside the same collective call.
  auto write_frames = [&](const h5::Dataset& set, hid_t type, const void* data,
                          std::vector<hsize_t> frame_dims) {
    std::vector<hsize_t> extent{total}, start{written_}, count{buffered_};
    for (hsize_t d : frame_dims) extent.push_back(d), start.push_back(0), count.push_back(d);
    if (H5Dset_extent(set.get(), extent.data()) < 0) throw Error(where + ": cannot extend a dataset");
    const h5::Space file_space(H5Dget_space(set.get()));
    const h5::Space memory(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    if (rank_ == 0) {
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    } else {
      H5Sselect_none(file_space.get());
      H5Sselect_none(memory.get());
    }
    if (H5Dwrite(set.get(), type, memory.get(), file_space.get(), collective_.get(), data) < 0)
      throw Error(where + ": collective write of frames failed");
  };
  write_atoms(position_, positions_);
  if (velocity_.valid()) write_atoms(velocity_, velocities_);
  if (force_.valid()) write_atoms(force_, forces_);
  write_frames(step_, H5T_NATIVE_INT64, steps_.data(), {});
  write_frames(time_, H5T_NATIVE_DOUBLE, times_.data(), {});
  if (box_.valid()) write_frames(box_, H5T_NATIVE_FLOAT, boxes_.data(), {3, 3});
  std::vector<double> column(buffered_);
  for (std::size_t o = 0; o < observables_.size(); ++o) {
    for (hsize_t f = 0; f < buffered_ && rank_ == 0; ++f)
      column[f] = observable_values_[f * observables_.size() + o];
    write_frames(observables_[o], H5T_NATIVE_DOUBLE, column.data(), {});
  }
  written_ = total;
  buffered_ = 0;
  for (auto* buffer : {&positions_, &velocities_, &forces_, &boxes_}) buffer->clear();
  steps_.clear(), times_.clear(), observable_values_.clear();
}

void H5mdWriter::Impl::flush() {
  write_buffered();
  // H5Fflush writes the metadata (extents, chunk index) and, with MPI-IO, calls MPI_File_sync: from here
  // on a killed job leaves these frames readable.
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) throw Error(path_ + ": cannot flush the file");
  // Then record how many frames are complete on disk, and make that durable too. Parallel HDF5
  // allocates a dataset's new chunks (and writes their fill values and index) as soon as it is
  // extended, so a job killed while writing the next chunk leaves frames of fill values past the last
  // flush; hemeplm's reader trusts only the recorded count.
  {
    const h5::Group hemeplm(H5Gopen2(file_.get(), "/parameters/hemeplm", H5P_DEFAULT));
    h5::write_int64_attribute(hemeplm.get(), "flushed_frames", static_cast<std::int64_t>(written_));
  }
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) throw Error(path_ + ": cannot flush the file");
  last_flush_ = MPI_Wtime();
}

void H5mdWriter::Impl::close() {
  if (closed_) return;
  flush();
  closed_ = true;
  for (auto* set : {&position_, &velocity_, &force_, &step_, &time_, &box_}) set->close();
  observables_.clear();
  if (!file_.close()) throw Error(path_ + ": closing the file failed");
  std::vector<TrajectoryInfo> index = trajectories_;
  if (index.empty()) index.push_back({0, 0, std::filesystem::path(path_).filename().string(), 0.0});
  for (std::size_t t = 0; t < index.size(); ++t) {
    const std::int64_t end =
        t + 1 < index.size() ? index[t + 1].first_frame : static_cast<std::int64_t>(written_);
    index[t].frame_count = end - index[t].first_frame;
  }
  if (trajectories_.empty() && first_times_.size() == 2) index[0].dt_ps = first_times_[1] - first_times_[0];
  on_root(comm_, rank_, path_, [&] { write_index(path_, index); });
}

/// Destructor path without close(): release handles, leaving buffered frames unwritten.
void H5mdWriter::Impl::abandon() {
  if (closed_) return;
  closed_ = true;
  observables_.clear();
  for (auto* set : {&position_, &velocity_, &force_, &step_, &time_, &box_}) set->close();
  // Closing an MPI-IO file is collective. While an exception unwinds on some ranks only, the others are
  // elsewhere and a collective close would hang the job instead of letting the error reach MPI_Abort;
  // the handle is then left to the process's end.
  if (size_ > 1 && std::uncaught_exceptions() > 0) {
    file_.release();
  } else {
    file_.close();
  }
}

H5mdWriter::H5mdWriter(MPI_Comm comm, const std::string& path, const System& system, AtomRange owned,
                       const H5mdWriterOptions& options)
    : impl_(std::make_unique<Impl>(comm, path, system, owned, options)) {}

H5mdWriter::~H5mdWriter() {
  if (impl_) impl_->abandon();
}

void H5mdWriter::begin_trajectory(const std::string& source, double dt_ps) {
  impl_->begin_trajectory(source, dt_ps);
}
void H5mdWriter::append(const FrameView& frame) {
  impl_->append(frame);
}
void H5mdWriter::flush() {
  impl_->flush();
}
void H5mdWriter::close() {
  impl_->close();
}
std::int64_t H5mdWriter::frames_appended() const {
  return static_cast<std::int64_t>(impl_->written_ + impl_->buffered_);
}

}  // namespace hemeplm::parallel_io
