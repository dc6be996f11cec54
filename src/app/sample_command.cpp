// hemeplm sample: trajectories from a trained checkpoint (forecast, transition path, inpainting,
// unconditional), decomposed over MPI ranks by the rank plan and streamed to one H5MD file.
#include <iomanip>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/sample/sampler.hpp"
#include "options.hpp"
#include "system_input.hpp"

namespace hemeplm::app {
namespace {

class SampleCommand final : public Command {
 public:
  const char* name() const override { return "sample"; }
  const char* summary() const override {
    return "generate trajectories from a checkpoint, decomposed over MPI ranks, into one H5MD file";
  }
  const char* usage() const override {
    return "--checkpoint FILE --structure FILE [--ligand FILE]... --mode forecast|tps|inpaint|unconditional "
           "[--end FILE] [--inpaint-atoms SELECTION] [--frames N] [--block-frames T] [--steps S] "
           "[--rolling] [--sampler ddpm|ddim] [--seed X] [--ranks-plan plan.json] --out FILE.h5md [--resume]";
  }
  void add_options(po::options_description& options) const override {
    const sample::SampleOptions d;
    po::options_description input("Input");
    po::positional_options_description unused;
    add_structure_options(input, unused);
    input.add_options()("checkpoint", po::value<std::string>()->value_name("FILE"),
                        "checkpoint written by hemeplm train (stage 2); its EMA weights are used")(
        "end", po::value<std::string>()->value_name("FILE"),
        "tps: the end structure (same topology as --structure; read with the same --ligand files), or an "
        "H5MD file (see --end-frame)")(
        "structure-frame", po::value<std::int64_t>()->default_value(0)->value_name("K"),
        "when --structure is a hemeplm H5MD file (dataset or trajectory): start from its frame K (negative: "
        "from the end)")("end-frame", po::value<std::int64_t>()->default_value(0)->value_name("K"),
                         "when --end is an H5MD file: end at its frame K (negative: from the end)")(
        "ranks-plan", po::value<std::string>()->value_name("plan.json"),
        "fragments and their ranks from 'hemeplm fragment --scheme denoise --out plan.json' (another rank "
        "count is reassigned); default: made here")(
        "residue-embeddings", po::value<std::string>()->value_name("FILE"),
        "per-residue embeddings (.h5 or .npy + .keys.csv, docs/residue-embeddings.md) for this structure; "
        "required by a checkpoint trained with --residue-embeddings, same width");
    options.add(input);

    po::options_description run("Sampling");
    run.add_options()("mode", po::value<std::string>()->default_value(d.mode)->value_name("MODE"),
                      "forecast: roll out from the structure; tps: frames between --structure and --end; "
                      "inpaint: regenerate --inpaint-atoms while the rest stays given; unconditional: from "
                      "noise")(
        "inpaint-atoms", po::value<std::string>()->value_name("SELECTION"),
        "inpaint: 'ligand', 'index 10-20,35', 'resid 45-47', 'resname LIG', 'name CA', "
        "'chain B', joined by ' or '")("frames",
                                       po::value<std::int64_t>()->default_value(d.frames)->value_name("N"),
                                       "frames to generate after frame 0 (tps: between start and end)")(
        "block-frames", po::value<std::int64_t>()->default_value(0)->value_name("T"),
        "frames per block (0 = the checkpoint's training window); memory does not grow with --frames")(
        "steps", po::value<std::int64_t>()->default_value(0)->value_name("S"),
        "denoising steps (0 = the checkpoint's diffusion steps; fewer are evenly spaced)")(
        "rolling", po::bool_switch(),
        "forecast with the rolling (diagonal) sampler: the window's T-1 free frames sit at staggered noise "
        "levels and every model call advances each frame one level (--steps: a multiple of T-1, default T-1, "
        "i.e. one finished frame per call; needs a checkpoint trained with --per-frame-noise)")(
        "sampler", po::value<std::string>()->default_value(d.sampler)->value_name("ddpm|ddim"),
        "ancestral DDPM or DDIM")("eta", po::value<double>()->default_value(d.eta)->value_name("X"),
                                  "DDIM stochasticity in [0, 1] (0 = deterministic)")(
        "clip-x0", po::value<double>()->default_value(d.clip_x0)->value_name("A"),
        "clip every atom's predicted clean position to within A Å of its conditioning position at each "
        "denoising step (0 = off); keeps an undertrained model's rollout from running away")(
        "seed", po::value<std::uint64_t>()->default_value(d.seed)->value_name("X"),
        "noise is keyed by (seed, block, step, frame, atom): any rank count gives the same frames")(
        "no-ema", po::bool_switch(), "use the raw parameters instead of their EMA")(
        "dtype", po::value<std::string>()->default_value("float32")->value_name("float32|float64"),
        "floating-point type of the model evaluation")(
        "threads", po::value<int>()->default_value(0)->value_name("N"),
        "torch threads per rank (0 = the node's cores divided by the ranks on it)");
    options.add(run);

    po::options_description decomposition("Decomposition (plan made here)");
    decomposition.add_options()("core-residues",
                                po::value<int>()->default_value(d.core_residues)->value_name("N"),
                                "consecutive residues per fragment core")(
        "buffer", po::value<double>()->default_value(d.buffer)->value_name("A"),
        "buffer radius around a core (Å); larger is closer to the whole-system answer")(
        "blend", po::value<double>()->default_value(d.blend)->value_name("A"),
        "width of the weight taper into the buffer (Å)")(
        "max-batch-atoms", po::value<std::int64_t>()->default_value(d.max_batch_atoms)->value_name("N"),
        "atoms per model call; larger fragments are split further");
    options.add(decomposition);

    po::options_description output("Output");
    output.add_options()("out", po::value<std::string>()->value_name("FILE.h5md"),
                         "trajectory (H5MD, written as FILE.partial and renamed when complete)")(
        "resume", po::bool_switch(), "continue FILE.partial of a killed run after its last completed block")(
        "energies", po::bool_switch(),
        "per-frame potential energy (kJ/mol) from the model's energy head, as the H5MD observable "
        "potential_energy")("quiet", po::bool_switch(), "no progress lines");
    options.add(output);
  }
  void add_positionals(po::positional_options_description&) const override {}
  const char* epilog() const override {
    return "Examples:\n"
           "  hemeplm sample --checkpoint stage2/checkpoint-000005000.h5 --structure complex.pdb --ligand "
           "lig.sdf \\\n"
           "                 --mode forecast --frames 1000 --out traj.h5md\n"
           "  mpirun -n 4 hemeplm sample --checkpoint c.h5 --structure a.pdb --mode tps --end b.pdb --frames "
           "30 "
           "--out path.h5md\n"
           "  hemeplm sample --checkpoint c.h5 --structure complex.pdb --ligand lig.sdf --mode inpaint \\\n"
           "                 --inpaint-atoms ligand --frames 50 --out pose.h5md\n"
           "Frames are written every block; a killed run continues with --resume (same options) and gives "
           "the\n"
           "same frames as an uninterrupted one. The time between frames is the training data's.\n";
  }

  int run(const po::variables_map& o, const RunContext& context) const override {
    sample::SampleOptions s;
    if (!o.count("checkpoint")) throw UsageError("hemeplm sample: --checkpoint FILE is required");
    if (!o.count("out")) throw UsageError("hemeplm sample: --out FILE.h5md is required");
    s.checkpoint = o["checkpoint"].as<std::string>();
    s.out = o["out"].as<std::string>();
    s.mode = o["mode"].as<std::string>();
    if (o.count("inpaint-atoms")) s.inpaint_atoms = o["inpaint-atoms"].as<std::string>();
    if (s.mode == "inpaint" && !o.count("inpaint-atoms"))
      throw UsageError("--mode inpaint needs --inpaint-atoms SELECTION (e.g. 'ligand')");
    s.frames = o["frames"].as<std::int64_t>();
    s.block_frames = o["block-frames"].as<std::int64_t>();
    s.steps = o["steps"].as<std::int64_t>();
    s.rolling = o["rolling"].as<bool>();
    s.sampler = o["sampler"].as<std::string>();
    s.eta = o["eta"].as<double>();
    s.clip_x0 = o["clip-x0"].as<double>();
    require_range("clip-x0", s.clip_x0, 0.0, 1000.0);
    s.seed = o["seed"].as<std::uint64_t>();
    s.use_ema = !o["no-ema"].as<bool>();
    const auto dtype = o["dtype"].as<std::string>();
    if (dtype != "float32" && dtype != "float64")
      throw UsageError("--dtype must be float32 or float64 (got '" + dtype + "')");
    s.float64 = dtype == "float64";
    s.threads = o["threads"].as<int>();
    require_range("threads", s.threads, 0, 4096);
    if (o.count("ranks-plan")) s.ranks_plan = o["ranks-plan"].as<std::string>();
    if (o.count("residue-embeddings")) s.residue_embeddings = o["residue-embeddings"].as<std::string>();
    s.core_residues = o["core-residues"].as<int>();
    require_range("core-residues", s.core_residues, 1, 100000);
    s.buffer = o["buffer"].as<double>();
    require_range("buffer", s.buffer, 0.0, 1000.0);
    s.blend = o["blend"].as<double>();
    require_range("blend", s.blend, 0.0, 1000.0);
    s.max_batch_atoms = o["max-batch-atoms"].as<std::int64_t>();
    s.resume = o["resume"].as<bool>();
    s.energies = o["energies"].as<bool>();
    s.quiet = o["quiet"].as<bool>();

    const System system = load_validated_system(o);
    std::optional<System> end;
    if (o.count("end")) {
      std::vector<std::string> ligands;
      if (o.count("ligand")) ligands = o["ligand"].as<std::vector<std::string>>();
      end = load_system_frame(o["end"].as<std::string>(), ligands, o["end-frame"].as<std::int64_t>());
    }
    const auto r =
        sample::run_sampling(context.comm, system, end, s, context.is_root() ? context.out : nullptr);
    if (context.is_root() && !s.quiet) {
      auto& out = *context.out;
      out << "wrote " << s.out << ": " << r.frames_written << " frames (" << r.resumed_frames << " resumed), "
          << std::fixed << std::setprecision(3) << r.frames_per_second << " frames/s, "
          << std::setprecision(2) << r.ns_per_day << " ns/day at " << r.dt_ps << " ps/frame, "
          << std::setprecision(4) << r.seconds_per_step << " s per denoising step, " << r.fragments
          << " fragments on " << r.ranks << " rank(s), peak memory " << std::setprecision(2) << r.peak_rss_gb
          << " GB on rank 0\n"
          << std::defaultfloat;
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_sample_command() {
  return std::make_unique<SampleCommand>();
}

}  // namespace hemeplm::app
