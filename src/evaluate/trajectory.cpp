// Reading whole trajectories for evaluation and the topology checks that make two of them comparable.
#include "hemeplm/evaluate/trajectory.hpp"

#include <algorithm>
#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::evaluate {

Trajectory read_trajectory(const std::string& path, std::int64_t first, std::int64_t count) {
  const parallel_io::H5mdReader reader(path);
  Trajectory t;
  t.path = path;
  const std::int64_t total = reader.frame_count();
  if (total == 0) throw InputError(path, "holds no frames");
  if (count < 0) count = total - first;
  if (first < 0 || count <= 0 || first + count > total)
    throw InputError(path, "frames " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                               " are outside the file's " + std::to_string(total) + " frames");
  t.system = reader.read_system();
  t.frame_count = count;
  const int atoms = t.atom_count();
  t.positions.resize(static_cast<std::size_t>(count) * atoms);
  reader.read_positions(first, count, {0, atoms}, t.positions);
  const std::vector<double> times = reader.times_ps();
  t.time_ps.assign(times.begin() + first, times.begin() + first + count);
  const std::vector<std::string> observables = reader.observable_names();
  if (std::find(observables.begin(), observables.end(), "potential_energy") != observables.end())
    t.energies = reader.read_observable("potential_energy", first, count);
  if (reader.has_forces()) {
    t.forces.resize(t.positions.size());
    reader.read_forces(first, count, {0, atoms}, t.forces);
  }
  // The System's positions are frame 0 of this trajectory, not of the file.
  std::copy(t.positions.begin(), t.positions.begin() + atoms, t.system.positions.begin());
  return t;
}

void require_same_atoms(const Trajectory& a, const Trajectory& b) {
  const std::string files = a.path + " and " + b.path;
  if (a.atom_count() != b.atom_count())
    throw InputError(b.path, "has " + std::to_string(b.atom_count()) + " atoms but " + a.path + " has " +
                                 std::to_string(a.atom_count()) + ": " + files + " are not the same system");
  for (int i = 0; i < a.atom_count(); ++i) {
    if (a.system.atomic_numbers[i] != b.system.atomic_numbers[i] ||
        a.system.atom_names[i] != b.system.atom_names[i])
      throw InputError(b.path, "atom " + std::to_string(i),
                       "is " + b.system.atom_names[i] + " (Z=" + std::to_string(b.system.atomic_numbers[i]) +
                           ") but " + a.system.atom_names[i] +
                           " (Z=" + std::to_string(a.system.atomic_numbers[i]) + ") in " + a.path + ": " +
                           files + " are not the same system");
  }
}

Trajectory concatenate(const std::vector<Trajectory>& parts) {
  if (parts.empty()) return {};
  Trajectory out = parts.front();
  bool energies = out.has_energies(), forces = out.has_forces();
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const Trajectory& part = parts[p];
    require_same_atoms(out, part);
    out.path += "+" + part.path;
    out.frame_count += part.frame_count;
    out.positions.insert(out.positions.end(), part.positions.begin(), part.positions.end());
    out.time_ps.insert(out.time_ps.end(), part.time_ps.begin(), part.time_ps.end());
    energies = energies && part.has_energies();
    forces = forces && part.has_forces();
    if (energies) out.energies.insert(out.energies.end(), part.energies.begin(), part.energies.end());
    if (forces) out.forces.insert(out.forces.end(), part.forces.begin(), part.forces.end());
  }
  if (!energies) out.energies.clear();
  if (!forces) out.forces.clear();
  return out;
}

Trajectory slice(const Trajectory& t, std::int64_t first, std::int64_t count) {
  if (first < 0 || count < 0 || first + count > t.frame_count)
    throw UsageError(t.path + ": frames " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                     " are outside its " + std::to_string(t.frame_count) + " frames");
  Trajectory out;
  out.path = t.path;
  out.system = t.system;
  out.frame_count = count;
  const std::size_t atoms = static_cast<std::size_t>(t.atom_count());
  out.positions.assign(t.positions.begin() + first * atoms, t.positions.begin() + (first + count) * atoms);
  out.time_ps.assign(t.time_ps.begin() + first, t.time_ps.begin() + first + count);
  if (t.has_energies()) out.energies.assign(t.energies.begin() + first, t.energies.begin() + first + count);
  if (t.has_forces())
    out.forces.assign(t.forces.begin() + first * atoms, t.forces.begin() + (first + count) * atoms);
  if (count > 0)
    std::copy(out.positions.begin(), out.positions.begin() + atoms, out.system.positions.begin());
  return out;
}

}  // namespace hemeplm::evaluate
