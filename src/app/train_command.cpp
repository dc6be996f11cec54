// hemeplm train: data-parallel training on H5MD datasets (stage 1 conformer pretraining, stage 2
// temporal training), with checkpoints, exact restart and graceful stop on Slurm's signals.
#include <ostream>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/train/trainer.hpp"
#include "model_options.hpp"
#include "options.hpp"

namespace hemeplm::app {
namespace {

class TrainCommand final : public Command {
 public:
  const char* name() const override { return "train"; }
  const char* summary() const override {
    return "train the model on H5MD datasets, data-parallel over MPI ranks";
  }
  const char* usage() const override {
    return "--data FILE.h5md... [--model tiny|paper] [--stage 1|2] [--init CHECKPOINT] [--steps N] [--batch "
           "B] "
           "[--lr X] [--seed S] [--checkpoint-dir DIR] [--checkpoint-every N] [--resume] [--deterministic] "
           "[--log FILE]";
  }
  void add_options(po::options_description& options) const override {
    const train::TrainingOptions d;
    po::options_description run("Run");
    run.add_options()("data", po::value<std::vector<std::string>>()->composing()->value_name("FILE.h5md"),
                      "training dataset written by 'hemeplm prepare'; repeatable")(
        "stage", po::value<int>()->default_value(d.stage)->value_name("1|2"),
        "1: conformer pretraining on single frames; 2: temporal training on windows of --frames frames with "
        "the "
        "stage-1 spatial layers frozen")(
        "init", po::value<std::string>()->value_name("CHECKPOINT"),
        "initialise the model from this checkpoint's parameters (stage 2 from a stage-1 checkpoint)")(
        "residue-embeddings", po::value<std::string>()->value_name("FILE"),
        "precomputed per-residue embeddings (e.g. ESM vectors; .h5 or .npy + .keys.csv, "
        "docs/residue-embeddings.md) keyed by chain and residue number, projected and added to the residue "
        "tokens; sets residue_embedding.dim to the file's width")(
        "steps", po::value<std::int64_t>()->default_value(d.steps)->value_name("N"),
        "optimizer steps in all")("batch", po::value<int>()->default_value(d.batch)->value_name("B"),
                                  "examples per rank and step (the global batch is B x ranks)")(
        "lr", po::value<double>()->default_value(d.lr)->value_name("X"), "peak learning rate (AdamW)")(
        "seed", po::value<std::uint64_t>()->default_value(d.seed)->value_name("S"),
        "seed of the initial parameters, the sampling order and every random draw")(
        "checkpoint-dir", po::value<std::string>()->default_value(d.checkpoint_dir)->value_name("DIR"),
        "where checkpoint-<step>.h5 files (and by default the log) are written")(
        "checkpoint-every", po::value<std::int64_t>()->default_value(d.checkpoint_every)->value_name("N"),
        "write a checkpoint every N steps (and at the end, and on SIGTERM/SIGUSR1/SIGINT)")(
        "checkpoint-minutes", po::value<double>()->default_value(d.checkpoint_minutes)->value_name("M"),
        "also write one when M minutes passed since the last (0 = never by time)")(
        "keep-checkpoints", po::value<int>()->default_value(d.keep_checkpoints)->value_name("K"),
        "keep the newest K checkpoints")(
        "resume", po::bool_switch(),
        "continue from the newest checkpoint in --checkpoint-dir (none yet: start)")(
        "deterministic", po::bool_switch(),
        "deterministic algorithms only: on CPU a resumed run then ends bit-identical to an uninterrupted "
        "one")("log", po::value<std::string>()->value_name("FILE"),
               "JSON-lines log of every step and validation (default CHECKPOINT_DIR/train.jsonl)")(
        "threads", po::value<int>()->default_value(0)->value_name("N"),
        "torch threads per rank (0 = the node's cores divided by the ranks on it)")(
        "backend", po::value<std::string>()->default_value(d.backend)->value_name("auto|mpi|nccl"),
        "gradient all-reduce: NCCL when built and every rank has a GPU (auto), or MPI")(
        "dtype", po::value<std::string>()->default_value("float32")->value_name("float32|float64"),
        "floating-point type of the model and data")(
        "quiet", po::bool_switch(), "no progress lines (the JSON-lines log is still written)");
    options.add(run);

    po::options_description data("Data");
    data.add_options()("frames", po::value<int>()->default_value(d.window_frames)->value_name("T"),
                       "frames per training window in stage 2 (conditioning frames included)")(
        "window-stride", po::value<int>()->default_value(d.window_stride)->value_name("K"),
        "frames between window starts")(
        "validation-fraction", po::value<double>()->default_value(d.validation_fraction)->value_name("F"),
        "held-out chronological tail of every trajectory (0 = no validation)")(
        "validation-windows", po::value<int>()->default_value(d.validation_windows)->value_name("N"),
        "at most N validation windows")("validate-every",
                                        po::value<std::int64_t>()->default_value(0)->value_name("N"),
                                        "steps between validations (0 = once per epoch)")(
        "max-sample-atoms", po::value<int>()->default_value(d.max_sample_atoms)->value_name("N"),
        "systems with more atoms are trained on overlapping fragments (core + buffer)")(
        "fragment-residues", po::value<int>()->default_value(d.fragment_core_residues)->value_name("N"),
        "consecutive residues per fragment core")(
        "fragment-buffer", po::value<double>()->default_value(d.fragment_buffer)->value_name("A"),
        "buffer radius around a fragment core (Å)");
    options.add(data);

    po::options_description diffusion("Diffusion and loss");
    diffusion.add_options()("diffusion-steps",
                            po::value<int>()->default_value(d.diffusion_steps)->value_name("S"),
                            "DDPM steps of the noise schedule")(
        "schedule", po::value<std::string>()->default_value(d.schedule)->value_name("linear|cosine"),
        "noise schedule (linear is scaled by 1000/S so few steps still reach noise)")(
        "no-kabsch", po::bool_switch(),
        "do not align the noisy trajectory onto the clean one (on by default)")(
        "per-frame-noise", po::value<double>()->default_value(d.per_frame_noise)->value_name("P"),
        "fraction of stage-2 windows trained with staggered per-frame noise levels, which `hemeplm sample "
        "--rolling` needs (0.5 keeps the plain block sampler as good)")(
        "conditioning", po::value<std::string>()->default_value(d.conditioning)->value_name("MIX"),
        "relative frequencies of the conditioning modes drawn per example (stage 2)")(
        "energy-weight", po::value<double>()->default_value(d.energy_weight)->value_name("W"),
        "weight of the energy term when the data has energies and forces")(
        "force-weight", po::value<double>()->default_value(d.force_weight)->value_name("W"),
        "weight of the force term")("energy-ema",
                                    po::value<double>()->default_value(d.energy_ema)->value_name("A"),
                                    "EMA smoothing of the energy term (TorchMD-Net ema_alpha_y)")(
        "targets", po::value<std::string>()->value_name("LIST"),
        "supervised targets and weights, e.g. energy:0.05,forces:0.95,gap:1 (a name alone: weight 1, or "
        "--energy-weight/--force-weight); properties such as gap need labels in every dataset (hemeplm "
        "prepare --molecules) and get a property head (added to model.property_heads on a fresh run); "
        "diffusion:0 drops the denoising loss; default: energy and forces when labelled");
    options.add(diffusion);

    po::options_description optimisation("Optimisation");
    optimisation.add_options()("warmup-steps",
                               po::value<std::int64_t>()->default_value(d.warmup_steps)->value_name("N"),
                               "linear learning-rate warm-up")(
        "decay", po::value<std::string>()->default_value(d.decay)->value_name("constant|cosine|plateau"),
        "learning-rate decay after the warm-up (plateau: on the validation loss)")(
        "min-lr", po::value<double>()->default_value(d.min_lr)->value_name("X"), "floor of the decay")(
        "weight-decay", po::value<double>()->default_value(d.weight_decay)->value_name("X"),
        "AdamW weight decay")("clip", po::value<double>()->default_value(d.clip)->value_name("X"),
                              "gradient-norm clip (0 = none)")(
        "ema-decay", po::value<double>()->default_value(d.ema_decay)->value_name("X"),
        "EMA of the weights (validation and sampling use the EMA weights)")(
        "max-bad-steps", po::value<int>()->default_value(d.max_bad_steps)->value_name("N"),
        "stop after N consecutive steps with non-finite loss or gradients (each is skipped)");
    options.add(optimisation);
    add_model_options(options, "tiny");
  }
  void add_positionals(po::positional_options_description&) const override {}
  const char* epilog() const override {
    return "Examples:\n"
           "  hemeplm train --data ala2.h5md --model tiny --stage 1 --steps 2000 --checkpoint-dir stage1\n"
           "  hemeplm train --data ala2.h5md --model tiny --stage 2 --init stage1/checkpoint-000002000.h5 "
           "\\\n"
           "                --frames 8 --steps 5000 --checkpoint-dir stage2\n"
           "  srun hemeplm train --data big.h5md --model paper --batch 2 --checkpoint-dir ckpt --resume\n"
           "Conditioning MIX: forecast=W,tps=W,inpaint=W,unconditional=W (modes left out get 0).\n"
           "SIGTERM, SIGUSR1 (sbatch --signal=B:USR1@120) and SIGINT: the current step finishes, a "
           "checkpoint is\n"
           "written and the program exits 0; run again with --resume. Every JSON-lines row has \"step\" and "
           "\"loss\".\n";
  }

  int run(const po::variables_map& o, const RunContext& context) const override {
    train::TrainingOptions t;
    if (!o.count("data")) throw UsageError("hemeplm train: at least one --data FILE.h5md is required");
    t.data = o["data"].as<std::vector<std::string>>();
    t.model = model_config_from(o);
    t.stage = o["stage"].as<int>();
    if (o.count("init")) t.init = o["init"].as<std::string>();
    if (o.count("residue-embeddings")) t.residue_embeddings = o["residue-embeddings"].as<std::string>();
    t.steps = o["steps"].as<std::int64_t>();
    t.batch = o["batch"].as<int>();
    t.lr = o["lr"].as<double>();
    t.seed = o["seed"].as<std::uint64_t>();
    t.checkpoint_dir = o["checkpoint-dir"].as<std::string>();
    t.checkpoint_every = o["checkpoint-every"].as<std::int64_t>();
    t.checkpoint_minutes = o["checkpoint-minutes"].as<double>();
    t.keep_checkpoints = o["keep-checkpoints"].as<int>();
    require_range("keep-checkpoints", t.keep_checkpoints, 1, 1000000);
    t.resume = o["resume"].as<bool>();
    t.deterministic = o["deterministic"].as<bool>();
    if (o.count("log")) t.log = o["log"].as<std::string>();
    t.threads = o["threads"].as<int>();
    require_range("threads", t.threads, 0, 4096);
    t.backend = o["backend"].as<std::string>();
    const std::string dtype = o["dtype"].as<std::string>();
    if (dtype != "float32" && dtype != "float64")
      throw UsageError("--dtype must be float32 or float64 (got '" + dtype + "')");
    t.float64 = dtype == "float64";
    t.progress = !o["quiet"].as<bool>();
    t.window_frames = o["frames"].as<int>();
    t.window_stride = o["window-stride"].as<int>();
    t.validation_fraction = o["validation-fraction"].as<double>();
    t.validation_windows = o["validation-windows"].as<int>();
    t.validate_every = o["validate-every"].as<std::int64_t>();
    t.max_sample_atoms = o["max-sample-atoms"].as<int>();
    t.fragment_core_residues = o["fragment-residues"].as<int>();
    t.fragment_buffer = o["fragment-buffer"].as<double>();
    t.diffusion_steps = o["diffusion-steps"].as<int>();
    t.schedule = o["schedule"].as<std::string>();
    t.kabsch = !o["no-kabsch"].as<bool>();
    t.per_frame_noise = o["per-frame-noise"].as<double>();
    t.conditioning = o["conditioning"].as<std::string>();
    t.energy_weight = o["energy-weight"].as<double>();
    t.force_weight = o["force-weight"].as<double>();
    t.energy_ema = o["energy-ema"].as<double>();
    if (o.count("targets")) t.targets = o["targets"].as<std::string>();
    require_range("energy-ema", t.energy_ema, 0.0, 1.0);
    t.warmup_steps = o["warmup-steps"].as<std::int64_t>();
    t.decay = o["decay"].as<std::string>();
    t.min_lr = o["min-lr"].as<double>();
    t.weight_decay = o["weight-decay"].as<double>();
    t.clip = o["clip"].as<double>();
    t.ema_decay = o["ema-decay"].as<double>();
    require_range("ema-decay", t.ema_decay, 0.0, 1.0);
    t.max_bad_steps = o["max-bad-steps"].as<int>();

    train::Trainer trainer(t, context.comm, context.is_root() ? context.out : nullptr);
    const auto summary = trainer.run();
    if (context.is_root() && summary.stopped_by_signal)
      *context.out << "stopped by signal at step " << summary.step << "; resume with --resume\n";
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_train_command() {
  return std::make_unique<TrainCommand>();
}

}  // namespace hemeplm::app
