// Model configurations: validation, the named sets, the spec's parameter-count formulas and the string
// overrides of config files. No torch here (see config.hpp).
#include "hemeplm/model/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "hemeplm/core/error.hpp"

namespace hemeplm::model {

void ViSNetConfig::validate() const {
  std::string problems;
  auto check = [&problems](bool ok, const std::string& what) {
    if (!ok) problems += (problems.empty() ? "" : "; ") + what;
  };
  check(hidden > 0 && heads > 0 && hidden % heads == 0, "hidden must be a positive multiple of heads");
  check(hidden % 2 == 0, "hidden must be even (the head halves it)");
  check(layers >= 1, "layers must be >= 1");
  check(lmax == 1 || lmax == 2, "lmax must be 1 or 2");
  check(num_rbf >= 1, "num_rbf must be >= 1");
  check(cutoff > 0.0, "cutoff must be > 0");
  check(max_z >= 1, "max_z must be >= 1");
  if (!problems.empty()) throw UsageError("ViSNet configuration: " + problems);
}

std::int64_t ViSNetConfig::expected_parameter_count() const {
  // (16L + 4.25) H^2 written as (64L + 17) H^2 / 4 to stay in integers (H is even, so H^2 / 4 is exact).
  return (64 * layers + 17) * hidden * hidden / 4 + (2 * max_z + 2 * num_rbf + 13 * layers + 8) * hidden + 2;
}

ViSNetConfig visnet_config(const std::string& name) {
  ViSNetConfig c;  // defaults are "paper" (MD17 / rMD17 / MD22)
  if (name == "paper") return c;
  if (name == "chignolin") {
    c.hidden = 128, c.layers = 6, c.lmax = 1;
    return c;
  }
  if (name == "tiny") {
    c.hidden = 32, c.layers = 2, c.lmax = 1, c.num_rbf = 16, c.heads = 4;
    return c;
  }
  throw UsageError("unknown ViSNet configuration '" + name + "' (known: paper, chignolin, tiny)");
}

CrossAttentionOptions HemePLMConfig::cross_attention() const {
  return {visnet.hidden, time.output_dim, cross_attention_heads, distance_bias, coordinate_channel};
}

PoolingOptions HemePLMConfig::pooling() const {
  return {visnet.hidden, pooling_domains, pooling_heads};
}

std::vector<std::string> split_property_heads(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    names.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return names;
}

void HemePLMConfig::validate() const {
  visnet.validate();
  std::string problems;
  auto check = [&problems](bool ok, const std::string& what) {
    if (!ok) problems += (problems.empty() ? "" : "; ") + what;
  };
  check(time.embedding_dim >= 4 && time.embedding_dim % 2 == 0, "time.embedding_dim must be even and >= 4");
  check(time.hidden >= 1 && time.output_dim >= 1, "time.hidden and time.output_dim must be >= 1");
  check(cross_attention_blocks >= 0, "cross_attention.blocks must be >= 0");
  check(cross_attention_heads > 0 && visnet.hidden % cross_attention_heads == 0,
        "cross_attention.heads must divide visnet.hidden");
  check(pooling_domains >= 1, "pooling.domains must be >= 1");
  check(pooling_heads > 0 && visnet.hidden % pooling_heads == 0, "pooling.heads must divide visnet.hidden");
  check(denoiser.layers >= 1, "denoiser.layers must be >= 1");
  check(denoiser.hidden >= 1, "denoiser.hidden must be >= 1");
  check(residue_embedding_dim >= 0, "residue_embedding.dim must be >= 0");
  for (const std::string& head : split_property_heads(property_heads)) {
    const bool name_ok = !head.empty() && std::all_of(head.begin(), head.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
    check(name_ok && head != "energy" && head != "forces",
          "property_heads: '" + head +
              "' is not a property name (lower-case letters, digits, _; not energy/forces)");
  }
  if (!problems.empty()) throw UsageError("model configuration '" + name + "': " + problems);
}

std::vector<std::string> model_config_names() {
  return {"paper", "tiny"};
}

HemePLMConfig model_config(const std::string& name) {
  HemePLMConfig c;  // defaults are "paper" (model-spec.md, "Full-model configuration near 18M")
  if (name == "paper") return c;
  if (name == "tiny") {
    c.name = "tiny";
    c.visnet = visnet_config("tiny");
    c.time = {32, 64, 32};
    c.cross_attention_blocks = 1;
    c.cross_attention_heads = 4;
    c.pooling_domains = 4;
    c.pooling_heads = 4;
    c.denoiser = {3, 32};
    return c;
  }
  throw UsageError("unknown model configuration '" + name + "' (known: paper, tiny)");
}

std::vector<ModuleParameterCount> expected_parameter_counts(const HemePLMConfig& config) {
  const std::int64_t h = config.visnet.hidden, ht = config.time.output_dim;
  const std::int64_t e = config.time.embedding_dim, th = config.time.hidden;
  const std::int64_t d = config.denoiser.hidden, n = config.denoiser.layers;
  const std::int64_t k = config.pooling_domains;

  std::int64_t sub_block = 12 * h * h + 4 * h * ht + 13 * h;  // 16H^2 + 13H when H_t = H
  if (config.distance_bias) sub_block += config.cross_attention_heads;
  std::int64_t block = 2 * sub_block;
  if (config.coordinate_channel) block += h + 1;  // phi_x on the ligand -> residue side only

  const std::int64_t basic_es = 9 * d * d + 26 * d + 46;
  const std::int64_t et_layer = 7 * d * d + 41 * d + 1;
  const std::int64_t stage1 = 5390 + 63 * d;  // embeddings (100x30, 50x4, Linear 72->30) + input linear
  const std::int64_t denoiser_trainable =
      n * (basic_es + 2 * et_layer + 4 * d + 6) - 1 + (n - 1) * 2 * d + 2 * d;
  const std::int64_t denoiser = stage1 + n * basic_es + denoiser_trainable;

  const auto all = [](std::string name, std::int64_t count) {
    return ModuleParameterCount{name, count, count};
  };
  std::vector<ModuleParameterCount> counts{all("energy_model", config.visnet.expected_parameter_count()),
                                           all("time_mlp", e * th + th + th * ht + ht),
                                           all("residue_tokens", 21 * h + h * h + h),
                                           all("cross_attention", config.cross_attention_blocks * block),
                                           all("pooling", 2 * (4 * h * h + 4 * h) + (k + 1) * h + 4 * h),
                                           {"denoiser", denoiser, denoiser_trainable},
                                           all("context_adapter", h * d + d)};
  if (config.residue_embedding_dim > 0)
    counts.push_back(all("residue_embedding", config.residue_embedding_dim * h + h));
  // One EquivariantScalar per property: block1 (H -> H/2) 4.5 H^2 + 2H, block2 (H/2 -> 1) 0.75 H^2 + 2H + 2.
  const auto properties = static_cast<std::int64_t>(split_property_heads(config.property_heads).size());
  if (properties > 0) counts.push_back(all("property_heads", properties * (21 * h * h / 4 + 4 * h + 2)));
  return counts;
}

namespace {

std::int64_t parse_int(const std::string& key, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || errno != 0 || *end != '\0')
    throw UsageError("model." + key + ": '" + value + "' is not an integer");
  return v;
}

double parse_double(const std::string& key, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || errno != 0 || *end != '\0')
    throw UsageError("model." + key + ": '" + value + "' is not a number");
  return v;
}

bool parse_bool(const std::string& key, const std::string& value) {
  for (const char* t : {"true", "1", "yes", "on"})
    if (value == t) return true;
  for (const char* f : {"false", "0", "no", "off"})
    if (value == f) return false;
  throw UsageError("model." + key + ": '" + value + "' is not true/false");
}

std::string format_double(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// One row per overridable value: key, help, and how to read and write it. Built per call: the table
// is tiny and this keeps it free of static state.
struct Row {
  const char* key;
  const char* description;
  std::function<std::string(const HemePLMConfig&)> get;
  std::function<void(HemePLMConfig&, const std::string& key, const std::string&)> set;
};

Row int_row(const char* key, const char* description, std::int64_t HemePLMConfig::*member) {
  return {key, description, [member](const HemePLMConfig& c) { return std::to_string(c.*member); },
          [member](HemePLMConfig& c, const std::string& k, const std::string& v) {
            c.*member = parse_int(k, v);
          }};
}

template <class Part>
Row part_int_row(const char* key, const char* description, Part HemePLMConfig::*part,
                 std::int64_t Part::*member) {
  return {key, description,
          [part, member](const HemePLMConfig& c) { return std::to_string(c.*part.*member); },
          [part, member](HemePLMConfig& c, const std::string& k, const std::string& v) {
            c.*part.*member = parse_int(k, v);
          }};
}

Row bool_row(const char* key, const char* description, bool HemePLMConfig::*member) {
  return {key, description,
          [member](const HemePLMConfig& c) { return std::string(c.*member ? "true" : "false"); },
          [member](HemePLMConfig& c, const std::string& k, const std::string& v) {
            c.*member = parse_bool(k, v);
          }};
}

std::vector<Row> rows() {
  using C = HemePLMConfig;
  return {
      part_int_row("visnet.hidden", "ViSNet width H (also cross-attention, residue tokens, pooling)",
                   &C::visnet, &ViSNetConfig::hidden),
      part_int_row("visnet.layers", "ViS-MP layers L", &C::visnet, &ViSNetConfig::layers),
      part_int_row("visnet.lmax", "spherical-harmonic degree, 1 or 2", &C::visnet, &ViSNetConfig::lmax),
      part_int_row("visnet.num_rbf", "radial basis functions R", &C::visnet, &ViSNetConfig::num_rbf),
      part_int_row("visnet.heads", "ViS-MP attention heads", &C::visnet, &ViSNetConfig::heads),
      {"visnet.cutoff", "radius-graph cutoff in Å", [](const C& c) { return format_double(c.visnet.cutoff); },
       [](C& c, const std::string& k, const std::string& v) { c.visnet.cutoff = parse_double(k, v); }},
      part_int_row("visnet.max_z", "largest atomic number + 1", &C::visnet, &ViSNetConfig::max_z),
      part_int_row("time.embedding_dim", "width of the sinusoidal diffusion-step embedding", &C::time,
                   &DiffusionTimeOptions::embedding_dim),
      part_int_row("time.hidden", "inner width of the diffusion-time MLP", &C::time,
                   &DiffusionTimeOptions::hidden),
      part_int_row("time.output_dim", "conditioning width H_t read by AdaLN", &C::time,
                   &DiffusionTimeOptions::output_dim),
      int_row("cross_attention.blocks", "cross-attention blocks (each: both directions)",
              &C::cross_attention_blocks),
      int_row("cross_attention.heads", "cross-attention heads", &C::cross_attention_heads),
      bool_row("cross_attention.distance_bias", "learned per-head -w|x_a - X_r|^2 logit bias",
               &C::distance_bias),
      bool_row("cross_attention.coordinate_channel", "equivariant coordinate channel (module only)",
               &C::coordinate_channel),
      int_row("pooling.domains", "domain tokens K", &C::pooling_domains),
      int_row("pooling.heads", "pooling attention heads", &C::pooling_heads),
      part_int_row("denoiser.layers", "EGInterpolator layers n", &C::denoiser, &DenoiserOptions::layers),
      part_int_row("denoiser.hidden", "EGInterpolator width", &C::denoiser, &DenoiserOptions::hidden),
      int_row("residue_embedding.dim", "width E of precomputed per-residue embeddings; 0 = none",
              &C::residue_embedding_dim),
      {"property_heads", "per-molecule property heads, comma-separated (e.g. gap); empty = none",
       [](const C& c) { return c.property_heads; },
       [](C& c, const std::string&, const std::string& v) { c.property_heads = v; }},
  };
}

}  // namespace

std::vector<HyperparameterInfo> hyperparameters() {
  std::vector<HyperparameterInfo> out;
  for (const Row& r : rows()) out.push_back({r.key, r.description});
  return out;
}

void set_hyperparameter(HemePLMConfig& config, const std::string& key, const std::string& value) {
  for (const Row& r : rows()) {
    if (key == r.key) {
      r.set(config, key, value);
      return;
    }
  }
  std::string known;
  for (const Row& r : rows()) known += (known.empty() ? "" : ", ") + std::string(r.key);
  throw UsageError("unknown model hyperparameter '" + key + "' (known: " + known + ")");
}

std::vector<std::pair<std::string, std::string>> hyperparameter_values(const HemePLMConfig& config) {
  std::vector<std::pair<std::string, std::string>> out{{"name", config.name}};
  for (const Row& r : rows()) out.emplace_back(r.key, r.get(config));
  return out;
}

}  // namespace hemeplm::model
