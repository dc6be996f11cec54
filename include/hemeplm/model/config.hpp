// Hyperparameters of every model module and of the assembled HemePLM model, named configurations,
// the spec's parameter-count formulas and string overrides (config files, command line). Torch-free
// on purpose: the CLI, the I/O of configurations and the tests of the formulas include this header
// without paying for the LibTorch headers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hemeplm::model {

/// Hyperparameters of ViSNet + EquivariantScalar (model-spec.md (a)). Defaults are the MD17 `paper` set.
/// The spec's variant: no vector norm (vecnorm 'none'), a fixed (non-trainable) RBF, plain ViS-MP layers.
struct ViSNetConfig {
  std::int64_t hidden = 256;  ///< H, divisible by heads and by 2 (head halves it)
  std::int64_t layers = 9;    ///< L ViS-MP layers; the last skips the edge update
  std::int64_t lmax = 2;      ///< 1 or 2; M = (lmax+1)^2 - 1 harmonic components
  std::int64_t num_rbf = 32;  ///< R
  std::int64_t heads = 8;
  double cutoff = 5.0;       ///< r_c in Å
  std::int64_t max_z = 100;  ///< embedding rows; atomic numbers must be < max_z

  std::int64_t vector_components() const { return (lmax + 1) * (lmax + 1) - 1; }
  /// Throws hemeplm::UsageError naming every bad value at once.
  void validate() const;
  /// P = (16L + 4.25) H^2 + (2Z + 2R + 13L + 8) H + 2 (spec formula, independent of lmax).
  std::int64_t expected_parameter_count() const;
};

/// Named ViSNet configurations: "paper" (H=256, L=9, lmax=2, R=32), "chignolin" (H=128, L=6, lmax=1,
/// R=32), "tiny" (H=32, L=2, lmax=1, R=16, 4 heads). Unknown names throw hemeplm::UsageError.
ViSNetConfig visnet_config(const std::string& name);

/// c = MLP(SinEmb(t)) (model-spec.md (b)).
struct DiffusionTimeOptions {
  std::int64_t embedding_dim = 256;  ///< width of SinEmb(t)
  std::int64_t hidden = 1024;        ///< inner width of the MLP
  std::int64_t output_dim = 256;     ///< H_t, the conditioning width read by AdaLN
};

struct CrossAttentionOptions {
  std::int64_t hidden = 256;        ///< H
  std::int64_t time_dim = 256;      ///< H_t, width of c
  std::int64_t heads = 8;           ///< d = H / heads
  bool distance_bias = true;        ///< -w_h |x_q - x_k|^2, w_h = softplus(param); adds `heads` parameters
  bool coordinate_channel = false;  ///< equivariant dx_q; adds phi_x = Linear(H, 1)
};

struct PoolingOptions {
  std::int64_t hidden = 256;  ///< H
  std::int64_t domains = 8;   ///< K learned domain queries
  std::int64_t heads = 8;
};

/// The EGInterpolator denoiser (model-spec.md (d)).
struct DenoiserOptions {
  std::int64_t layers = 6;    ///< n
  std::int64_t hidden = 128;  ///< H of the BasicES / ETLayer stack
};

/// The assembled model. Widths that must agree are not repeated: the cross-attention, residue tokens
/// and pooling run at visnet.hidden, the AdaLN reads time.output_dim.
struct HemePLMConfig {
  std::string name = "paper";  ///< the named configuration it started from ("custom" is fine)
  ViSNetConfig visnet;
  DiffusionTimeOptions time;
  std::int64_t cross_attention_blocks = 2;  ///< each = ligand->residue + residue->ligand sub-blocks
  std::int64_t cross_attention_heads = 8;
  bool distance_bias = true;
  bool coordinate_channel = false;  ///< module option; the assembled model does not move atoms with it
  std::int64_t pooling_domains = 8;
  std::int64_t pooling_heads = 8;
  DenoiserOptions denoiser;
  /// E of precomputed per-residue embeddings (protein-language-model vectors, `--residue-embeddings`):
  /// projected by Linear(E, visnet.hidden) and added to the residue tokens. 0 = none (no parameters).
  std::int64_t residue_embedding_dim = 0;
  /// Per-molecule scalar property heads, comma-separated names ("gap"); empty = none. Each is a gated
  /// equivariant head on the ViSNet output with an invariant, standardised output.
  std::string property_heads;

  CrossAttentionOptions cross_attention() const;
  PoolingOptions pooling() const;
  /// Throws hemeplm::UsageError naming every inconsistent value at once.
  void validate() const;
};

/// The names of a property_heads list: split at commas, blanks trimmed, empty items dropped.
std::vector<std::string> split_property_heads(const std::string& list);

/// "paper" (18,449,543 parameters: the spec's 18,449,511 plus 8 distance-bias weights in each of the
/// 4 cross-attention sub-blocks) or "tiny" (< 300k, for tests and the CPU demo).
HemePLMConfig model_config(const std::string& name);
std::vector<std::string> model_config_names();

/// Parameter count of one module, from the spec's formulas (expected) or from the built model.
struct ModuleParameterCount {
  std::string module;  ///< name of the submodule in the HemePLM module tree
  std::int64_t parameters = 0;
  std::int64_t trainable_in_stage2 = 0;  ///< after the stage-1 spatial trunk of the denoiser is frozen
};

/// Per module, from the formulas of model-spec.md generalised to any width (H_t != H included):
///   energy_model  (16L + 4.25) H^2 + (2Z + 2R + 13L + 8) H + 2
///   time_mlp      e h + h + h o + o
///   residue_tokens 21 H + H^2 + H
///   cross_attention blocks x 2 x (12 H^2 + 4 H H_t + 13 H [+ heads] [+ H + 1 on ligand->residue])
///   pooling       2 (4H^2 + 4H) + (K + 1) H + 4H
///   denoiser      5,390 + 63 D + n (2 (9D^2 + 26D + 46) + 2 (7D^2 + 41D + 1) + 4D + 6) - 1 + (n - 1) 2D + 2D
///   context_adapter H D + D
///   residue_embedding E H + H (only when residue_embedding_dim > 0)
///   property_heads P (21 H^2 / 4 + 4H + 2) for P property heads (only when P > 0)
std::vector<ModuleParameterCount> expected_parameter_counts(const HemePLMConfig& config);

/// Builds the model (LibTorch) and counts its parameters per top-level module.
std::vector<ModuleParameterCount> count_parameters(const HemePLMConfig& config);

/// One overridable hyperparameter: its key (as in config files: `[model]` section, `visnet.hidden = 64`)
/// and what it means.
struct HyperparameterInfo {
  std::string key;
  std::string description;
};
std::vector<HyperparameterInfo> hyperparameters();

/// Sets one hyperparameter from its text. Throws hemeplm::UsageError naming the key and the value
/// for an unknown key or a value that does not parse; call validate() after the last override.
void set_hyperparameter(HemePLMConfig& config, const std::string& key, const std::string& value);

/// (key, value) of every hyperparameter, in hyperparameters() order (for checkpoints and H5MD
/// /parameters), starting with ("name", name).
std::vector<std::pair<std::string, std::string>> hyperparameter_values(const HemePLMConfig& config);

/// Sets LibTorch's intra-op thread count explicitly (it otherwise defaults to 1 on this stack, or
/// to all cores regardless of how many ranks share the node). `requested` <= 0 means: OMP_NUM_THREADS
/// if set, else the hardware threads divided by `ranks_per_node`. Returns the count set.
int set_torch_threads(int requested, int ranks_per_node = 1);

/// Makes the C allocator keep and reuse the memory of freed large tensors instead of unmapping it
/// (glibc otherwise maps and unmaps every block above 32 MB). Measured on `paper` with 1k atoms, 2
/// threads, before the inference forward was blocked (visnet.hpp): 18.2 s -> 7.4 s (kernel time
/// 36 s -> 3.5 s). It matters for training (autograd keeps [E, M, H] tensors); the blocked inference
/// forward allocates small blocks and does not need it. Returns false if the allocator refused.
bool keep_freed_tensor_memory();

}  // namespace hemeplm::model
