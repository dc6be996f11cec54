// H5mdReader: hemeplm's own files and any H5MD file MDAnalysis reads (its H5MDWriter's included).
// Everything is validated when the file is opened (groups, shapes, units), so later reads only fail
// on damaged data; every problem is one InputError line naming the file and the dataset.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "h5md_topology.hpp"
#include "hdf5_handles.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {
namespace {

/// Physical dimensions of a unit string: exponents of length, time, energy and amount (mol), and the
/// factor to Å, ps and kJ (per mol).
struct Dimension {
  int length = 0, time = 0, energy = 0, mole = 0;
  double factor = 1;
  bool operator==(const Dimension& o) const {
    return length == o.length && time == o.time && energy == o.energy && mole == o.mole;
  }
};

const Dimension kLength{1, 0, 0, 0};
const Dimension kTime{0, 1, 0, 0};
const Dimension kVelocity{1, -1, 0, 0};
const Dimension kEnergy{0, 0, 1, -1};
const Dimension kForce{-1, 0, 1, -1};

/// Parses H5MD/MDAnalysis unit strings: space-separated symbols with optional exponents, e.g.
/// "nm", "Angstrom ps-1", "kJ mol-1 nm-1", "kcal mol-1 Angstrom-1", "eV". nullopt when unknown.
std::optional<Dimension> parse_unit(const std::string& text) {
  static const std::map<std::string, Dimension> symbols = {
      {"nm", {1, 0, 0, 0, 10.0}},
      {"Angstrom", {1, 0, 0, 0, 1.0}},
      {"A", {1, 0, 0, 0, 1.0}},
      {"pm", {1, 0, 0, 0, 0.01}},
      {"fm", {1, 0, 0, 0, 1e-5}},
      {"ps", {0, 1, 0, 0, 1.0}},
      {"fs", {0, 1, 0, 0, 1e-3}},
      {"ns", {0, 1, 0, 0, 1e3}},
      {"kJ", {0, 0, 1, 0, 1.0}},
      {"kcal", {0, 0, 1, 0, 4.184}},
      {"mol", {0, 0, 0, 1, 1.0}},
      {"eV", {0, 0, 1, -1, 96.48533212}},  // per particle, i.e. per mol of particles
  };
  Dimension total;
  std::istringstream words(text);
  std::string word;
  bool any = false;
  while (words >> word) {
    int exponent = 1;
    const std::size_t sign = word.find_first_of("-^0123456789");
    if (sign != std::string::npos) {
      std::string power = word.substr(sign);
      if (!power.empty() && power[0] == '^') power.erase(0, 1);
      try {
        std::size_t used = 0;
        exponent = std::stoi(power, &used);
        if (used != power.size()) return std::nullopt;
      } catch (const std::exception&) {
        return std::nullopt;
      }
      word.erase(sign);
    }
    const auto found = symbols.find(word);
    if (found == symbols.end()) return std::nullopt;
    const Dimension& d = found->second;
    total.length += exponent * d.length, total.time += exponent * d.time;
    total.energy += exponent * d.energy, total.mole += exponent * d.mole;
    total.factor *= std::pow(d.factor, exponent);
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

std::string join_dims(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? "][" : "") + std::to_string(dims[i]);
  return text + "]";
}

/// The factor to hemeplm units from the `unit` attribute of `path`, which must hold a unit of `want`.
double unit_factor(hid_t file, const std::string& path, const Dimension& want, const char* kind) {
  const h5::Dataset set = h5::open_dataset(file, path);
  bool found = false;
  const std::string unit = h5::read_string_attribute(set.get(), path, "unit", &found);
  if (!found) throw h5::Failure(path, "missing 'unit' attribute");
  const std::optional<Dimension> d = parse_unit(unit);
  if (!d || !(*d == want))
    throw h5::Failure(path, "unit '" + unit + "' is not a " + kind + " unit hemeplm knows");
  return d->factor;
}

}  // namespace

class H5mdReader::Impl {
 public:
  struct Element {
    h5::Dataset value;
    double factor = 1;
    std::string path;
  };

  Impl(const std::string& path, MPI_Comm comm);
  void open_element(const std::string& name, const Dimension& want, const char* kind, Element& element);
  void read_vectors(const Element& element, std::int64_t first, std::int64_t count, AtomRange atoms,
                    Span<Vec3> out, const char* what) const;
  [[noreturn]] void fail(const h5::Failure& failure) const {
    throw InputError(path_, failure.where(), failure.what());
  }

  std::string path_, group_;
  h5::File file_;
  int atoms_ = 0;
  std::int64_t frames_ = 0;
  Element position_, velocity_, force_, box_;
  int box_rank_ = 0;  // 0: no box; 1: edges [F][3] or [3]; 2: [F][3][3] or [3][3]
  bool box_per_frame_ = false;
  std::vector<std::string> observables_;
};

H5mdReader::Impl::Impl(const std::string& path, MPI_Comm comm) : path_(path) {
  h5::silence_errors();
  if (!std::filesystem::is_regular_file(path)) throw InputError(path, "no such file");
  h5::Plist fapl(H5Pcreate(H5P_FILE_ACCESS));
  // Handle comparison needs no MPI call, so the serial default works in programs without MPI_Init.
  if (comm != MPI_COMM_SELF) H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path, "not an HDF5 file (or its header is damaged)");
  file_ = h5::File(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file_.valid()) throw InputError(path, "cannot open the HDF5 file: it is truncated or corrupt");
  const hid_t f = file_.get();
  try {
    if (!h5::exists(f, "/particles"))
      throw h5::Failure("/particles", "missing group: not an H5MD trajectory");
    group_ = "/particles/trajectory";
    if (!h5::exists(f, group_)) {
      // Like MDAnalysis: the first particles group by name.
      const h5::Group particles(H5Gopen2(f, "/particles", H5P_DEFAULT));
      std::vector<char> name(256, '\0');
      if (H5Lget_name_by_idx(particles.get(), ".", H5_INDEX_NAME, H5_ITER_INC, 0, name.data(), name.size(),
                             H5P_DEFAULT) <= 0)
        throw h5::Failure("/particles", "holds no particles group");
      group_ = "/particles/" + std::string(name.data());
    }
    open_element("position", kLength, "length", position_);
    const std::vector<hsize_t> dims = h5::dims_of(position_.value.get());
    frames_ = static_cast<std::int64_t>(dims[0]);
    atoms_ = static_cast<int>(dims[1]);
    // hemeplm's writer records the frames it flushed completely; a writer killed mid-chunk can leave
    // extents (and fill values) beyond them, which are not frames.
    if (h5::exists(f, "/parameters/hemeplm")) {
      const h5::Group hemeplm(H5Gopen2(f, "/parameters/hemeplm", H5P_DEFAULT));
      bool found = false;
      const std::int64_t flushed = h5::read_int64_attribute(hemeplm.get(), "flushed_frames", found);
      if (found && flushed >= 0) frames_ = std::min(frames_, flushed);
    }
    for (const char* series : {"step", "time"}) {
      const std::string p = group_ + "/position/" + series;
      const std::vector<hsize_t> d = h5::dims_of(h5::open_dataset(f, p).get());
      if (d.size() != 1 || static_cast<std::int64_t>(d[0]) < frames_)
        throw h5::Failure(
            p, "shape " + join_dims(d) + " is not [" + std::to_string(frames_) + "] like position/value");
    }
    unit_factor(f, group_ + "/position/time", kTime, "time");
    if (h5::exists(f, group_ + "/species")) {
      const std::vector<hsize_t> d = h5::dims_of(h5::open_dataset(f, group_ + "/species").get());
      if (d.size() != 1 || static_cast<int>(d[0]) != atoms_)
        throw h5::Failure(group_ + "/species", "shape " + join_dims(d) + " does not match the " +
                                                   std::to_string(atoms_) + " atoms of position/value");
    }
    if (h5::exists(f, group_ + "/velocity")) open_element("velocity", kVelocity, "velocity", velocity_);
    if (h5::exists(f, group_ + "/force")) open_element("force", kForce, "force", force_);
    if (!h5::exists(f, group_ + "/box"))
      throw h5::Failure(group_ + "/box", "missing group (H5MD requires it)");
    const std::string edges = group_ + "/box/edges";
    if (h5::exists(f, edges)) {
      H5O_info_t info{};
      H5Oget_info_by_name(f, edges.c_str(), &info, H5P_DEFAULT);
      box_per_frame_ = info.type == H5O_TYPE_GROUP;
      box_.path = box_per_frame_ ? edges + "/value" : edges;
      box_.value = h5::open_dataset(f, box_.path);
      box_.factor = unit_factor(f, box_.path, kLength, "length");
      const std::vector<hsize_t> d = h5::dims_of(box_.value.get());
      box_rank_ = static_cast<int>(d.size()) - (box_per_frame_ ? 1 : 0);
      const bool ok =
          (box_rank_ == 1 && d.back() == 3) || (box_rank_ == 2 && d[d.size() - 2] == 3 && d.back() == 3);
      if (!ok || (box_per_frame_ && static_cast<std::int64_t>(d[0]) < frames_))
        throw h5::Failure(box_.path,
                          "shape " + join_dims(d) + " is not [frames][3][3], [frames][3], [3][3] or [3]");
    }
    if (h5::exists(f, "/observables")) {
      const h5::Group group(H5Gopen2(f, "/observables", H5P_DEFAULT));
      H5G_info_t info{};
      H5Gget_info(group.get(), &info);
      for (hsize_t i = 0; i < info.nlinks; ++i) {
        std::vector<char> name(256, '\0');
        H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                           H5P_DEFAULT);
        if (h5::exists(f, "/observables/" + std::string(name.data()) + "/value"))
          observables_.emplace_back(name.data());
      }
    }
  } catch (const h5::Failure& failure) {
    fail(failure);
  }
}

void H5mdReader::Impl::open_element(const std::string& name, const Dimension& want, const char* kind,
                                    Element& element) {
  element.path = group_ + "/" + name + "/value";
  element.value = h5::open_streamed_dataset(file_.get(), element.path);
  const std::vector<hsize_t> dims = h5::dims_of(element.value.get());
  if (dims.size() != 3 || dims[2] != 3 || (name != "position" && static_cast<int>(dims[1]) != atoms_) ||
      (name != "position" && static_cast<std::int64_t>(dims[0]) < frames_))
    throw h5::Failure(element.path, "shape " + join_dims(dims) + " is not [frames][atoms][3]" +
                                        (name == "position" ? "" : " like position/value"));
  element.factor = unit_factor(file_.get(), element.path, want, kind);
}

void H5mdReader::Impl::read_vectors(const Element& element, std::int64_t first, std::int64_t count,
                                    AtomRange atoms, Span<Vec3> out, const char* what) const {
  if (!element.value.valid()) throw UsageError(path_ + ": the file holds no " + std::string(what));
  if (first < 0 || count < 0 || first + count > frames_ || atoms.first < 0 || atoms.count < 0 ||
      atoms.first + atoms.count > atoms_)
    throw UsageError(path_ + ": frames [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") or atoms out of range (" + std::to_string(frames_) + " frames, " +
                     std::to_string(atoms_) + " atoms)");
  const std::size_t per_frame = static_cast<std::size_t>(atoms.count);
  if (out.size() != static_cast<std::size_t>(count) * per_frame)
    throw UsageError(path_ + ": output buffer has the wrong size");
  if (count == 0 || atoms.count == 0) return;
  std::vector<float> data(out.size() * 3);
  const h5::Space file_space(H5Dget_space(element.value.get()));
  const hsize_t start[3] = {hsize_t(first), hsize_t(atoms.first), 0},
                extent[3] = {hsize_t(count), per_frame, 3};
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
  const h5::Space memory(H5Screate_simple(3, extent, nullptr));
  if (H5Dread(element.value.get(), H5T_NATIVE_FLOAT, memory.get(), file_space.get(), H5P_DEFAULT,
              data.data()) < 0)
    throw InputError(path_, element.path,
                     "cannot read frames " + std::to_string(first) + ".." +
                         std::to_string(first + count - 1) + ": the file is truncated or corrupt");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Vec3 v{data[3 * i] * element.factor, data[3 * i + 1] * element.factor,
                 data[3 * i + 2] * element.factor};
    if (!is_finite(v))
      throw InputError(path_, element.path,
                       "frame " + std::to_string(first + static_cast<std::int64_t>(i / per_frame)) +
                           " has non-finite " + what);
    out[i] = v;
  }
}

H5mdReader::H5mdReader(const std::string& path, MPI_Comm comm) : impl_(std::make_unique<Impl>(path, comm)) {}
H5mdReader::~H5mdReader() = default;

const std::string& H5mdReader::path() const {
  return impl_->path_;
}
int H5mdReader::atom_count() const {
  return impl_->atoms_;
}
std::int64_t H5mdReader::frame_count() const {
  return impl_->frames_;
}
bool H5mdReader::has_velocities() const {
  return impl_->velocity_.value.valid();
}
bool H5mdReader::has_forces() const {
  return impl_->force_.value.valid();
}
std::vector<std::string> H5mdReader::observable_names() const {
  return impl_->observables_;
}

std::vector<std::int64_t> H5mdReader::steps() const {
  try {
    std::vector<std::int64_t> steps =
        h5::read_all<std::int64_t>(impl_->file_.get(), impl_->group_ + "/position/step");
    steps.resize(impl_->frames_);
    return steps;
  } catch (const h5::Failure& failure) {
    impl_->fail(failure);
  }
}

std::vector<double> H5mdReader::times_ps() const {
  try {
    const std::string path = impl_->group_ + "/position/time";
    const double factor = unit_factor(impl_->file_.get(), path, kTime, "time");
    std::vector<double> times = h5::read_all<double>(impl_->file_.get(), path);
    times.resize(impl_->frames_);
    for (double& t : times) t *= factor;
    return times;
  } catch (const h5::Failure& failure) {
    impl_->fail(failure);
  }
}

void H5mdReader::read_positions(std::int64_t first, std::int64_t count, AtomRange atoms,
                                Span<Vec3> out) const {
  impl_->read_vectors(impl_->position_, first, count, atoms, out, "positions");
}
void H5mdReader::read_velocities(std::int64_t first, std::int64_t count, AtomRange atoms,
                                 Span<Vec3> out) const {
  impl_->read_vectors(impl_->velocity_, first, count, atoms, out, "velocities");
}
void H5mdReader::read_forces(std::int64_t first, std::int64_t count, AtomRange atoms, Span<Vec3> out) const {
  impl_->read_vectors(impl_->force_, first, count, atoms, out, "forces");
}

std::optional<Box> H5mdReader::box(std::int64_t frame) const {
  const Impl& d = *impl_;
  if (d.box_rank_ == 0) return std::nullopt;
  if (frame < 0 || frame >= d.frames_)
    throw UsageError(d.path_ + ": frame " + std::to_string(frame) + " out of range");
  const hsize_t per = d.box_rank_ == 2 ? 9 : 3;
  std::vector<double> values(per);
  const h5::Space file_space(H5Dget_space(d.box_.value.get()));
  if (d.box_per_frame_) {
    // count {1, 3, 3} reads [1][3] from a [frames][3] dataset (only its first two entries are used).
    const hsize_t start[3] = {hsize_t(frame), 0, 0}, count[3] = {1, 3, 3};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  }
  const h5::Space memory(H5Screate_simple(1, &per, nullptr));
  if (H5Dread(d.box_.value.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT,
              values.data()) < 0)
    throw InputError(d.path_, d.box_.path, "cannot read the box of frame " + std::to_string(frame));
  Box box;
  for (int i = 0; i < 3; ++i) {
    // A cuboid box (edges [3]) is the diagonal of the matrix of box vectors.
    auto component = [&](int k) {
      return (per == 9 ? values[3 * i + k] : (i == k ? values[i] : 0.0)) * d.box_.factor;
    };
    box.vectors[i] = {component(0), component(1), component(2)};
    if (!is_finite(box.vectors[i]))
      throw InputError(d.path_, d.box_.path, "frame " + std::to_string(frame) + " has a non-finite box");
  }
  return box;
}

std::vector<double> H5mdReader::read_observable(const std::string& name, std::int64_t first,
                                                std::int64_t count) const {
  const Impl& d = *impl_;
  if (std::find(d.observables_.begin(), d.observables_.end(), name) == d.observables_.end())
    throw UsageError(d.path_ + ": the file holds no observable '" + name + "'");
  const std::string path = "/observables/" + name + "/value";
  try {
    const h5::Dataset set = h5::open_dataset(d.file_.get(), path);
    const std::vector<hsize_t> dims = h5::dims_of(set.get());
    if (dims.size() != 1) throw h5::Failure(path, "shape " + join_dims(dims) + " is not [frames]");
    if (first < 0 || count < 0 || hsize_t(first + count) > dims[0])
      throw UsageError(d.path_ + ": " + path + ": frames out of range");
    std::vector<double> values(count);
    if (count == 0) return values;
    const h5::Space file_space(H5Dget_space(set.get()));
    const hsize_t start = first, extent = count;
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &extent, nullptr);
    const h5::Space memory(H5Screate_simple(1, &extent, nullptr));
    if (H5Dread(set.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT, values.data()) < 0)
      throw h5::Failure(path, "cannot read values: the file is truncated or corrupt");
    // Energies are converted to kJ/mol; other series (dimensionless, temperatures, ...) pass as stored.
    bool found = false;
    const std::string unit = h5::read_string_attribute(set.get(), path, "unit", &found);
    const std::optional<Dimension> dimension = found ? parse_unit(unit) : std::nullopt;
    if (dimension && *dimension == kEnergy)
      for (double& v : values) v *= dimension->factor;
    return values;
  } catch (const h5::Failure& failure) {
    d.fail(failure);
  }
}

FrameProperties H5mdReader::read_properties() const {
  const Impl& d = *impl_;
  FrameProperties out;
  const hid_t f = d.file_.get();
  const std::string group_path = kPropertiesGroup;
  try {
    if (!h5::exists(f, group_path)) return out;
    const h5::Group group(H5Gopen2(f, group_path.c_str(), H5P_DEFAULT));
    H5G_info_t info{};
    H5Gget_info(group.get(), &info);
    for (hsize_t i = 0; i < info.nlinks; ++i) {  // names come in ascending (sorted) order
      const ssize_t length =
          H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      std::string name(static_cast<std::size_t>(std::max<ssize_t>(length, 0)) + 1, '\0');
      H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                         H5P_DEFAULT);
      name.resize(name.size() - 1);
      const std::string value_path = group_path + "/" + name + "/value";
      if (!h5::exists(f, value_path)) continue;
      std::vector<hsize_t> dims;
      std::vector<double> values = h5::read_all<double>(f, value_path, &dims);
      // Frames past the last flush of a killed writer are not frames (as for positions).
      if (dims.size() != 1 || static_cast<std::int64_t>(dims[0]) < d.frames_)
        throw h5::Failure(value_path, "shape " + join_dims(dims) + " is not [" + std::to_string(d.frames_) +
                                          "] like position/value");
      values.resize(static_cast<std::size_t>(d.frames_));
      bool found = false;
      const h5::Dataset set = h5::open_dataset(f, value_path);
      const std::string unit = h5::read_string_attribute(set.get(), value_path, "unit", &found);
      out.names.push_back(name);
      out.units.push_back(found ? unit : "");
      out.values.push_back(std::move(values));
    }
  } catch (const h5::Failure& failure) {
    d.fail(failure);
  }
  // HDF5 lists names in its own byte order; make "sorted" mean std::string's order regardless.
  std::vector<std::size_t> order(out.names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return out.names[a] < out.names[b]; });
  FrameProperties sorted;
  for (std::size_t i : order) {
    sorted.names.push_back(std::move(out.names[i]));
    sorted.units.push_back(std::move(out.units[i]));
    sorted.values.push_back(std::move(out.values[i]));
  }
  return sorted;
}

System H5mdReader::read_system() const {
  const Impl& d = *impl_;
  System system;
  try {
    system = read_topology(d.file_.get());
  } catch (const h5::Failure& failure) {
    d.fail(failure);
  }
  if (system.atom_count() != d.atoms_)
    throw InputError(d.path_, "/parameters/hemeplm/topology/atom_name",
                     "topology has " + std::to_string(system.atom_count()) + " atoms but " +
                         d.position_.path + " has " + std::to_string(d.atoms_));
  if (d.frames_ == 0) throw InputError(d.path_, d.position_.path, "holds no frame to take positions from");
  read_positions(0, 1, {0, d.atoms_}, system.positions);
  if (std::optional<Box> frame_box = box(0)) system.box = frame_box;
  system.sources = {d.path_};
  featurize(system);
  return system;
}

std::vector<TrajectoryInfo> H5mdReader::trajectories() const {
  const Impl& d = *impl_;
  const std::string index = "/parameters/hemeplm/trajectories";
  if (!h5::exists(d.file_.get(), index)) {
    // No index (another program's file, or a run killed before close): one trajectory of all frames.
    const std::vector<double> times = times_ps();
    const double dt = times.size() >= 2 ? times[1] - times[0] : 0.0;
    return {TrajectoryInfo{0, d.frames_, std::filesystem::path(d.path_).filename().string(), dt}};
  }
  try {
    const std::vector<std::int64_t> first = h5::read_all<std::int64_t>(d.file_.get(), index + "/first_frame");
    const std::vector<std::int64_t> count = h5::read_all<std::int64_t>(d.file_.get(), index + "/frame_count");
    const std::vector<std::string> source = h5::read_strings(d.file_.get(), index + "/source");
    const std::vector<double> dt = h5::read_all<double>(d.file_.get(), index + "/dt_ps");
    if (count.size() != first.size() || source.size() != first.size() || dt.size() != first.size())
      throw h5::Failure(index, "first_frame, frame_count, source and dt_ps have different lengths");
    std::vector<TrajectoryInfo> out;
    for (std::size_t t = 0; t < first.size(); ++t) {
      if (first[t] < 0 || count[t] < 0 || first[t] + count[t] > d.frames_)
        throw h5::Failure(index + "/frame_count", "trajectory " + std::to_string(t) + " runs past the " +
                                                      std::to_string(d.frames_) + " frames of the file");
      out.push_back({first[t], count[t], source[t], dt[t]});
    }
    return out;
  } catch (const h5::Failure& failure) {
    d.fail(failure);
  }
}

namespace {
std::string hemeplm_attribute(hid_t file, const char* name) {
  if (!h5::exists(file, "/parameters/hemeplm")) return "{}";
  const h5::Group group(H5Gopen2(file, "/parameters/hemeplm", H5P_DEFAULT));
  bool found = false;
  const std::string text = h5::read_string_attribute(group.get(), "/parameters/hemeplm", name, &found);
  return found ? text : "{}";
}
}  // namespace

std::string H5mdReader::config_json() const {
  try {
    return hemeplm_attribute(impl_->file_.get(), "config");
  } catch (const h5::Failure& failure) {
    impl_->fail(failure);
  }
}

std::string H5mdReader::provenance_json() const {
  try {
    return hemeplm_attribute(impl_->file_.get(), "provenance");
  } catch (const h5::Failure& failure) {
    impl_->fail(failure);
  }
}

}  // namespace hemeplm::parallel_io
