// HemePLM forward and forward+backward on CPU: time, peak memory, per-atom scaling and achieved
// GFLOP/s against a plain matmul, for the `tiny` and `paper` configurations at 1k/10k/50k atoms.
//
//   model-bench [--configs tiny,paper] [--sizes 1000,10000,50000] [--modes forward,backward]
//               [--repeats 3] [--threads N] [--max-case-seconds 1800] [--out FILE]
//
// Systems: ../shared/data/big_1s63_ftase_proteinH.pdb + big_1s63_ligand.sdf (11,714 atoms with H). For
// a target of S atoms, c = ceil(S / 11,714) copies of one unit are laid on a grid whose spacing is the
// unit's extent + cutoff + 5 Å (no edge between copies); the unit is the first whole receptor residues
// plus the ligand, S / c atoms in all. Every size thus has the same neighbour density and the same
// ligand/residue mix (1k: a 970-atom N-terminal fragment + ligand; 50k: 5 units of ~10k).
// Input: one graph, T = 4 frames (x_given = positions repeated), frame 0 known (forecast), step 100.
//
// Memory: before each timed run, freed heap is returned to the OS (malloc_trim) and the peak RSS is
// reset ("5" > /proc/self/clear_refs); peak = VmHWM after the run, reported absolute and minus VmRSS
// before it. A case whose peak, extrapolated linearly in atoms from the largest smaller size measured
// (or from a 1k probe), exceeds 85 % of MemAvailable is skipped with the reason in the JSON; so is a
// case whose extrapolated time for warm-up + repeats exceeds --max-case-seconds.
#include <malloc.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/core/system_subset.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/train/model_input.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace model = hemeplm::model;
namespace train = hemeplm::train;
using hemeplm::System;
using hemeplm::Vec3;

constexpr int kFrames = 4;
constexpr std::int64_t kDiffusionStep = 100;

struct Args {
  std::vector<std::string> configs = {"tiny", "paper"};
  std::vector<int> sizes = {1000, 10000, 50000};
  std::vector<std::string> modes = {"forward", "backward"};
  int repeats = 3;
  int threads = 0;
  double max_case_seconds = 1800;
  std::string allocator = "keep";  ///< keep: model::keep_freed_tensor_memory(); system: glibc defaults
  std::string out;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hemeplm::UsageError("model-bench: " + opt + " needs a value");
      return argv[++i];
    };
    if (opt == "--configs") {
      a.configs = split(value());
    } else if (opt == "--sizes") {
      a.sizes.clear();
      for (const auto& s : split(value())) a.sizes.push_back(std::stoi(s));
    } else if (opt == "--modes") {
      a.modes = split(value());
      for (const auto& m : a.modes) {
        if (m != "forward" && m != "backward")
          throw hemeplm::UsageError("model-bench: --modes takes forward,backward, got '" + m + "'");
      }
    } else if (opt == "--repeats") {
      a.repeats = std::max(1, std::stoi(value()));
    } else if (opt == "--threads") {
      a.threads = std::stoi(value());
    } else if (opt == "--max-case-seconds") {
      a.max_case_seconds = std::stod(value());
    } else if (opt == "--allocator") {
      a.allocator = value();
      if (a.allocator != "keep" && a.allocator != "system")
        throw hemeplm::UsageError("model-bench: --allocator takes keep or system, got '" + a.allocator + "'");
    } else if (opt == "--out") {
      a.out = value();
    } else {
      throw hemeplm::UsageError(
          "model-bench: unknown option '" + opt +
          "' (--configs --sizes --modes --repeats --threads --max-case-seconds --allocator --out)");
    }
  }
  std::sort(a.sizes.begin(), a.sizes.end());  // extrapolation needs the small sizes first
  return a;
}

// --- /proc memory -------------------------------------------------------------------------------

double status_gb(const std::string& key, const char* file = "/proc/self/status") {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size() + 1, key + ":") == 0)
      return std::stod(line.substr(key.size() + 1)) / (1024.0 * 1024.0);
  }
  return 0;
}
double mem_available_gb() {
  return status_gb("MemAvailable", "/proc/meminfo");
}
/// Caps the address space at what is mapped now plus 90 % of MemAvailable, so that a case the
/// estimate let through fails with an allocation error (reported) instead of waking the OOM killer.
double cap_address_space() {
  const double limit_gb = status_gb("VmSize") + 0.9 * mem_available_gb();
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(limit_gb * 1024 * 1024 * 1024);
  setrlimit(RLIMIT_AS, &limit);
  return limit_gb;
}

void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

/// torch's what() carries a stack trace after the first line.
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// --- systems ------------------------------------------------------------------------------------

/// `base` c times, copy k shifted by offsets[k]; every index re-based, features copied.
System replicate(const System& base, const std::vector<Vec3>& offsets) {
  System out;
  out.sources = base.sources;
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    const int atoms = out.atom_count();
    const int residues = out.residue_count();
    const int chains = static_cast<int>(out.chains.size());
    const int molecules = static_cast<int>(out.molecules.size());
    for (const Vec3& p : base.positions) out.positions.push_back(p + offsets[k]);
    out.atomic_numbers.insert(out.atomic_numbers.end(), base.atomic_numbers.begin(),
                              base.atomic_numbers.end());
    out.atom_names.insert(out.atom_names.end(), base.atom_names.begin(), base.atom_names.end());
    for (int r : base.atom_residue) out.atom_residue.push_back(r + residues);
    out.formal_charges.insert(out.formal_charges.end(), base.formal_charges.begin(),
                              base.formal_charges.end());
    out.features.insert(out.features.end(), base.features.begin(), base.features.end());
    out.origins.insert(out.origins.end(), base.origins.begin(), base.origins.end());
    for (hemeplm::Residue r : base.residues) {
      r.first_atom += atoms, r.chain += chains, r.molecule += molecules;
      out.residues.push_back(r);
    }
    for (hemeplm::Chain c : base.chains) {
      c.first_residue += residues;
      out.chains.push_back(c);
    }
    for (hemeplm::Bond b : base.bonds) out.bonds.push_back({b.a + atoms, b.b + atoms, b.order});
    for (hemeplm::Molecule m : base.molecules) {
      for (int& r : m.residues) r += residues;
      out.molecules.push_back(m);
    }
  }
  return out;
}

/// `target` atoms: c identical units (receptor residue prefix + ligand) on a grid (see the top).
System build_system(const System& complex, int target, double cutoff) {
  const int copies = std::max(1, (target + complex.atom_count() - 1) / complex.atom_count());
  const int per_copy = target / copies;
  std::vector<bool> ligand_residue(complex.residue_count(), false);
  int ligand_atoms = 0;
  for (int m : complex.ligand_molecules()) {
    for (int r : complex.molecules[m].residues)
      ligand_residue[r] = true, ligand_atoms += complex.residues[r].atom_count;
  }
  std::vector<int> keep;
  for (int r = 0; r < complex.residue_count(); ++r) {
    const auto& res = complex.residues[r];
    if (ligand_residue[r]) continue;
    if (static_cast<int>(keep.size()) + res.atom_count > per_copy - ligand_atoms) break;
    for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) keep.push_back(a);
  }
  for (int r = 0; r < complex.residue_count(); ++r) {
    if (!ligand_residue[r]) continue;
    const auto& res = complex.residues[r];
    for (int a = res.first_atom; a < res.first_atom + res.atom_count; ++a) keep.push_back(a);
  }
  std::sort(keep.begin(), keep.end());
  const System unit = hemeplm::select_atoms(complex, hemeplm::Span<const int>(keep));
  Vec3 lo = unit.positions[0], hi = unit.positions[0];
  for (const Vec3& p : unit.positions) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
  }
  const double spacing = std::max({hi.x - lo.x, hi.y - lo.y, hi.z - lo.z}) + cutoff + 5.0;
  const int side = static_cast<int>(std::ceil(std::cbrt(static_cast<double>(copies)) - 1e-9));
  std::vector<Vec3> offsets;
  for (int k = 0; k < copies; ++k) {
    offsets.push_back(
        Vec3{spacing * (k % side), spacing * ((k / side) % side), spacing * (k / (side * side))});
  }
  return replicate(unit, offsets);
}

// --- FLOP estimate ------------------------------------------------------------------------------

struct GraphSize {
  std::int64_t atoms = 0, radius_edges = 0, bond_edges = 0, residues = 0, ligand_atoms = 0;
  std::int64_t frames = kFrames, free_frames = kFrames - 1;
};

/// Forward FLOPs of the matmuls (2 x rows x in x out over every Linear, plus the attention products),
/// from the modules' shapes; elementwise ops, gathers and scatters are not counted. With H, L, M =
/// (lmax+1)^2 - 1, Rb of ViSNet, D and n of the denoiser, N atoms, E radius edges (E' = E + N with
/// ViSNet's self-loops), Eb bond-hop edges, R residues, A ligand atoms, K pooling domains, T frames of
/// which F are free:
///   ViSNet     E Rb H + N 2H H + E' Rb H                               (neighbour + edge embeddings)
///              + L [N (6 H^2 + 3 M H^2) + E' 4 H^2] + (L-1) (N 2 M H^2 + E' H^2)  (ViS-MP, edge update;
///              its two bias-free vector projections run on the nodes before the gather)
///   tokens     R H^2;  pooling 2 R H^2;  adapter N H D
///   cross      per block: A 10H^2 + (R+K+1) 2H^2 + 2 A (R+K+1) H       (ligand -> residue)
///                       + R 10H^2 + A 2H^2 + 2 R A H                    (residue -> ligand)
///   denoiser   N 72 30 + N T 62 D + n [ES(F) + ES(T) + 2 ET(T)], where per frame
///              ES = Eb (3D^2 + 6D) + N (3D^2 + 2 (D+4) D + 8D) and ET = N (7D^2 + D) + N T 2D.
double forward_flops(const model::HemePLMConfig& c, const GraphSize& g) {
  const double h = c.visnet.hidden, l = c.visnet.layers, m = c.visnet.vector_components(),
               rb = c.visnet.num_rbf;
  const double n = g.atoms, e = g.radius_edges, ep = e + n, eb = g.bond_edges, r = g.residues,
               a = g.ligand_atoms;
  const double k = c.pooling_domains, d = c.denoiser.hidden, layers = c.denoiser.layers;
  const double t = g.frames, f = g.free_frames;
  double macs = e * rb * h + n * 2 * h * h + ep * rb * h;
  macs += l * (n * (6 * h * h + 3 * m * h * h) + ep * 4 * h * h) + (l - 1) * (n * 2 * m * h * h + ep * h * h);
  macs += r * h * h + 2 * r * h * h + n * h * d;
  if (r > 0 && a > 0) {
    macs += c.cross_attention_blocks * (a * 10 * h * h + (r + k + 1) * 2 * h * h + 2 * a * (r + k + 1) * h +
                                        r * 10 * h * h + a * 2 * h * h + 2 * r * a * h);
  }
  const double es = eb * (3 * d * d + 6 * d) + n * (3 * d * d + 2 * (d + 4) * d + 8 * d);
  const double et = n * (7 * d * d + d) + n * t * 2 * d;
  macs += n * 72 * 30 + n * t * 62 * d + layers * (es * f + es * t + 2 * et * t);
  return 2 * macs;
}

/// GFLOP/s of a plain float32 torch::mm [rows, h] x [h, h] (median of 5 after a warm-up).
double matmul_gflops(std::int64_t rows, std::int64_t h) {
  rows = std::min<std::int64_t>(rows, 1 << 18);  // a few hundred MB at most; large enough to be compute-bound
  const auto a = torch::randn({rows, h});
  const auto b = torch::randn({h, h});
  auto c = torch::mm(a, b);
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    c = torch::mm(a, b);
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return 2.0 * rows * h * h / times[2] / 1e9;
}

// --- measurement --------------------------------------------------------------------------------

struct Measurement {
  std::vector<double> seconds;
  double median = 0, peak_delta_gb = 0, peak_gb = 0, rss_before_gb = 0;
};

Measurement measure(const std::function<void()>& run, int repeats, bool warm_up) {
  if (warm_up) run();
  Measurement m;
  for (int i = 0; i < repeats; ++i) {
    malloc_trim(0);
    const double before = status_gb("VmRSS");
    reset_peak_rss();
    const auto t0 = Clock::now();
    run();
    m.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    const double peak = status_gb("VmHWM");
    if (peak - before > m.peak_delta_gb) m.peak_delta_gb = peak - before, m.rss_before_gb = before;
    m.peak_gb = std::max(m.peak_gb, peak);
  }
  auto sorted = m.seconds;
  std::sort(sorted.begin(), sorted.end());
  m.median = sorted[sorted.size() / 2];
  return m;
}

struct Case {
  model::HemePLMInput input;
  torch::Tensor x_t;
  GraphSize size;
  double build_seconds = 0;
};

Case make_case(const System& complex, int target, const model::HemePLMConfig& config) {
  const auto t0 = Clock::now();
  const System system = build_system(complex, target, config.visnet.cutoff);
  train::ModelInputOptions options;
  options.cutoff = config.visnet.cutoff;
  options.domains = static_cast<int>(config.pooling_domains);
  Case c;
  c.input = train::make_model_input(system, {}, options);
  c.input.x_given = c.input.x_given.repeat({1, kFrames, 1});
  c.input.frame_times = torch::arange(kFrames, torch::kInt64);
  c.input.known_frames = torch::arange(kFrames).eq(0);
  c.input.diffusion_step = torch::full({1}, kDiffusionStep, torch::kInt64);
  c.x_t = c.input.x_given + torch::randn_like(c.input.x_given);
  c.build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  c.size.atoms = c.input.atom_count();
  c.size.radius_edges = c.input.radius_src.numel();
  c.size.bond_edges = c.input.bond_src.numel();
  c.size.residues = c.input.residue_count();
  c.size.ligand_atoms = c.input.ligand_atom.sum().item<std::int64_t>();
  return c;
}

std::function<void()> runner(model::HemePLM& net, const Case& c, const std::string& mode) {
  if (mode == "forward") {
    return [&net, &c] {
      torch::NoGradGuard no_grad;
      const auto eps = net->forward(c.input, c.x_t);
      (void)eps.sum().item<float>();
    };
  }
  return [&net, &c] {
    net->zero_grad();
    const auto eps = net->forward(c.input, c.x_t);
    eps.pow(2).mean().backward();
  };
}

/// Per-atom cost of the largest size measured so far, per (config, mode).
struct History {
  double atoms = 0, peak_delta_gb = 0, seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    const int threads =
        args.threads > 0 ? args.threads : static_cast<int>(std::thread::hardware_concurrency());
    hemeplm::model::set_torch_threads(threads);
    const bool kept = args.allocator == "keep" && hemeplm::model::keep_freed_tensor_memory();
    torch::manual_seed(0);
    hemeplm::decomposition::KokkosRuntime kokkos(threads);

    const std::string data = HEMEPLM_SHARED_DATA;
    const System complex =
        hemeplm::load_system({data + "/big_1s63_ftase_proteinH.pdb", {data + "/big_1s63_ligand.sdf"}});

    json report;
    report["benchmark"] = "model-bench";
    report["threads"] = threads;
    report["torch_threads"] = torch::get_num_threads();
    report["allocator"] = kept ? "keep freed tensor memory (no mmap, no trim)" : "glibc defaults";
    report["repeats"] = args.repeats;
    report["frames"] = kFrames;
    report["dtype"] = "float32";
    report["source"] = "big_1s63_ftase_proteinH.pdb + big_1s63_ligand.sdf, replicated";
    report["mem_available_gb_at_start"] = mem_available_gb();
    report["address_space_limit_gb"] = cap_address_space();
    report["cases"] = json::array();
    std::map<std::string, History> history;                 // key: config/mode
    std::map<std::string, std::map<int, double>> per_atom;  // key: config/mode -> size -> s/atom

    for (const auto& name : args.configs) {
      const model::HemePLMConfig config = model::model_config(name);
      model::HemePLM net(config);
      std::int64_t parameters = 0;
      for (const auto& p : net->parameters()) parameters += p.numel();
      for (int target : args.sizes) {
        const Case c = make_case(complex, target, config);
        const double flops = forward_flops(config, c.size);
        const double mm_gflops = matmul_gflops(c.size.radius_edges + c.size.atoms, config.visnet.hidden);
        for (const auto& mode : args.modes) {
          const std::string key = name + "/" + mode;
          json entry = {{"config", name},
                        {"parameters", parameters},
                        {"mode", mode},
                        {"target_atoms", target},
                        {"atoms", c.size.atoms},
                        {"radius_edges", c.size.radius_edges},
                        {"bond_edges", c.size.bond_edges},
                        {"residues", c.size.residues},
                        {"ligand_atoms", c.size.ligand_atoms},
                        {"input_build_seconds", c.build_seconds}};
          // Extrapolate memory and time linearly in atoms from the largest smaller case (or a 1k probe).
          History h = history[key];
          if (h.atoms == 0 && c.size.atoms > 2000) {
            const Case probe = make_case(complex, 1000, config);
            try {
              const Measurement m = measure(runner(net, probe, mode), 1, false);
              h = {static_cast<double>(probe.size.atoms), m.peak_delta_gb, m.seconds[0]};
              entry["extrapolated_from_probe_atoms"] = probe.size.atoms;
            } catch (const std::exception& e) {
              entry["skipped"] = "the " + std::to_string(probe.size.atoms) +
                                 "-atom probe already failed: " + first_line(e.what());
              std::cerr << "[model-bench] " << key << ": skipped, " << entry["skipped"].get<std::string>()
                        << "\n";
              report["cases"].push_back(entry);
              net->zero_grad();
              continue;
            }
          }
          const double available = mem_available_gb();
          if (h.atoms > 0) {
            const double scale = c.size.atoms / h.atoms;
            const double memory = 1.2 * h.peak_delta_gb * scale;
            const double seconds = h.seconds * scale * (args.repeats + 1);
            entry["estimated_peak_gb"] = memory;
            entry["estimated_case_seconds"] = seconds;
            char reason[200] = "";
            if (memory > 0.85 * available) {
              std::snprintf(reason, sizeof reason, "estimated %.1f GB > available %.1f GB from MemAvailable",
                            memory, available);
            } else if (seconds > args.max_case_seconds) {
              std::snprintf(reason, sizeof reason, "estimated %.0f s > --max-case-seconds %.0f", seconds,
                            args.max_case_seconds);
            }
            if (reason[0] != '\0') {
              entry["skipped"] = reason;
              std::cerr << "[model-bench] " << key << " " << c.size.atoms << " atoms: skipped, " << reason
                        << "\n";
              report["cases"].push_back(entry);
              continue;
            }
          }
          std::cerr << "[model-bench] " << key << " " << c.size.atoms << " atoms ...\n";
          Measurement m;
          try {
            m = measure(runner(net, c, mode), args.repeats, true);
          } catch (const std::exception& e) {  // allocation failure under the address-space cap
            entry["skipped"] = "failed: " + first_line(e.what());
            std::cerr << "[model-bench]   " << entry["skipped"].get<std::string>() << "\n";
            report["cases"].push_back(entry);
            net->zero_grad();
            continue;
          }
          history[key] = {static_cast<double>(c.size.atoms), m.peak_delta_gb, m.median};
          per_atom[key][target] = m.median / c.size.atoms;
          // Backward costs about twice the forward's matmuls (gradients of inputs and of weights).
          const double mode_flops = mode == "forward" ? flops : 3 * flops;
          const double achieved = mode_flops / m.median / 1e9;
          entry["seconds"] = m.seconds;
          entry["median_seconds"] = m.median;
          entry["microseconds_per_atom"] = 1e6 * m.median / c.size.atoms;
          entry["peak_rss_gb"] = m.peak_gb;
          entry["peak_minus_before_gb"] = m.peak_delta_gb;
          entry["rss_before_gb"] = m.rss_before_gb;
          entry["estimated_gflop"] = mode_flops / 1e9;
          entry["achieved_gflops"] = achieved;
          entry["matmul_reference_gflops"] = mm_gflops;
          entry["fraction_of_matmul"] = achieved / mm_gflops;
          std::cerr << "[model-bench]   median " << m.median << " s, peak +" << m.peak_delta_gb << " GB, "
                    << achieved << " GFLOP/s (mm " << mm_gflops << ")\n";
          report["cases"].push_back(entry);
        }
      }
    }
    report["scaling"] = json::array();
    for (const auto& [key, sizes] : per_atom) {
      if (sizes.count(10000) && sizes.count(50000)) {
        const double ratio = sizes.at(50000) / sizes.at(10000);
        report["scaling"].push_back({{"case", key},
                                     {"per_atom_50k_over_10k", ratio},
                                     {"target", 1.25},
                                     {"within_target", ratio <= 1.25}});
      }
    }
    const std::string text = report.dump(2);
    std::cout << text << "\n";
    if (!args.out.empty()) {
      std::ofstream out(args.out);
      out << text << "\n";
      if (!out) throw hemeplm::UsageError("model-bench: cannot write " + args.out);
    }
    return 0;
  } catch (const hemeplm::Error& e) {
    std::cerr << "model-bench: " << e.what() << "\n";
    return e.exit_status();
  } catch (const std::exception& e) {
    std::cerr << "model-bench: " << e.what() << "\n";
    return 1;
  }
}
