// The torch <-> checkpoint adapter on the real model modules: a save/load through an HDF5 file is a
// bitwise round trip of every parameter and buffer (float32 and float64), the file's names are torch's
// module-tree names, requires_grad and tensor identity survive a load, and every mismatch between a
// checkpoint and a model is one InputError naming the file, after which the model is unchanged.
#include "hemeplm/train/model_state.hpp"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/model/cross_attention.hpp"
#include "hemeplm/model/egnn.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/model/temporal.hpp"
#include "hemeplm/model/visnet.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/train/model_input.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

using parallel_io::DType;
using parallel_io::TensorRecord;

const auto kI64 = torch::TensorOptions().dtype(torch::kInt64);

/// Every parameter and buffer by name, in the order the adapter promises (parameters, then buffers).
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& p : module.named_parameters()) state.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) state.emplace_back(b.key(), b.value());
  return state;
}

std::vector<std::string> names_of(const std::vector<TensorRecord>& records) {
  std::vector<std::string> names;
  for (const auto& r : records) names.push_back(r.name);
  return names;
}

/// Same bytes: torch::equal alone would let -0.0 pass for 0.0 (and fail on NaN).
bool same_bytes(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const auto ca = a.detach().to(torch::kCPU).contiguous();
  const auto cb = b.detach().to(torch::kCPU).contiguous();
  return ca.nbytes() == cb.nbytes() && std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

/// Asserts that the two modules hold the same tensors under the same names, bit for bit.
void expect_same_state(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto sa = named_state(a);
  const auto sb = named_state(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    ASSERT_EQ(sa[i].first, sb[i].first);
    EXPECT_EQ(sa[i].second.scalar_type(), sb[i].second.scalar_type()) << sa[i].first;
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
    EXPECT_TRUE(same_bytes(sa[i].second, sb[i].second)) << sa[i].first;
  }
}

/// Number of tensors of b whose values differ from a's: a non-zero count before loading shows that
/// the later equality comes from the load, not from equal initialisation.
int differing_tensors(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto sa = named_state(a);
  const auto sb = named_state(b);
  int differing = 0;
  for (std::size_t i = 0; i < sa.size() && i < sb.size(); ++i)
    if (!torch::equal(sa[i].second, sb[i].second)) ++differing;
  return differing;
}

/// Names of a's tensors that b does not have, straight from torch.
std::size_t names_only_in(const torch::nn::Module& a, const torch::nn::Module& b) {
  std::set<std::string> in_b;
  for (const auto& [name, tensor] : named_state(b)) in_b.insert(name);
  std::size_t count = 0;
  for (const auto& [name, tensor] : named_state(a)) count += in_b.count(name) ? 0 : 1;
  return count;
}

std::map<std::string, torch::Tensor> snapshot(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> copy;
  for (const auto& [name, tensor] : named_state(module)) copy[name] = tensor.detach().clone();
  return copy;
}

void expect_unchanged(const torch::nn::Module& module, const std::map<std::string, torch::Tensor>& before) {
  for (const auto& [name, tensor] : named_state(module))
    EXPECT_TRUE(torch::equal(tensor, before.at(name))) << name << " changed by a failed load";
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return {};
}

// --- inputs of the real modules (as in tests/model) ----------------------------------------------

/// All ordered pairs (j -> i) closer than the cutoff, no self-loops, one graph.
model::AtomGraph small_graph(torch::ScalarType dtype) {
  const auto opts = torch::TensorOptions().dtype(dtype);
  std::vector<double> xyz;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 2; ++b) xyz.insert(xyz.end(), {1.6 * a + 0.1 * b, 1.5 * b, 0.2 * a * b});
  const std::int64_t n = 6;
  const auto positions = torch::tensor(xyz, torch::kFloat64).reshape({n, 3});
  std::vector<std::int64_t> src, dst;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      if (i != j && (positions[i] - positions[j]).norm().item<double>() < 4.0)
        src.push_back(j), dst.push_back(i);
  model::AtomGraph g;
  g.atomic_numbers = torch::tensor(std::vector<std::int64_t>{6, 1, 8, 7, 1, 16}, kI64);
  g.positions = positions.to(opts);
  g.edge_src = torch::tensor(src, kI64);
  g.edge_dst = torch::tensor(dst, kI64);
  g.batch = torch::zeros({n}, kI64);
  g.graph_count = 1;
  return g;
}

/// A 5-atom chain with its 1- to 3-hop pairs, 3 frames.
model::TrajectoryInput small_trajectory(torch::ScalarType dtype) {
  const std::int64_t atoms = 5;
  std::vector<std::int64_t> src, dst, type;
  for (std::int64_t i = 0; i < atoms; ++i)
    for (std::int64_t j = 0; j < atoms; ++j) {
      const auto hop = i > j ? i - j : j - i;
      if (hop >= 1 && hop <= 3) src.push_back(j), dst.push_back(i), type.push_back(hop);
    }
  model::TrajectoryInput in;
  in.molecule.atomic_numbers = torch::tensor(std::vector<std::int64_t>{6, 6, 8, 7, 1}, kI64);
  in.molecule.atom_features = torch::randn({atoms, 42}, torch::TensorOptions().dtype(dtype));
  in.molecule.edge_src = torch::tensor(src, kI64);
  in.molecule.edge_dst = torch::tensor(dst, kI64);
  in.molecule.edge_type = torch::tensor(type, kI64);
  in.molecule.diffusion_step = torch::full({atoms}, 17, kI64);
  in.frame_times = torch::arange(3, kI64);
  return in;
}

model::EGInterpolator interpolator(std::int64_t layers, std::int64_t hidden, torch::ScalarType dtype,
                                   std::uint64_t seed) {
  torch::manual_seed(seed);
  model::EGInterpolator m(layers, hidden);
  m->to(dtype);
  // The mixing logits start at 0 in every model; randomise them so that they are checked too.
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters())
    if (p.key().rfind("mix_logits_", 0) == 0) p.value().uniform_(-1.0, 1.0);
  return m;
}

model::EnergyModel energy_model(torch::ScalarType dtype, std::uint64_t seed, double mean, double std) {
  torch::manual_seed(seed);
  model::EnergyModel m(model::visnet_config("tiny"));
  m->to(dtype);
  m->set_standardization(mean, std);
  return m;
}

// --- a module with every dtype the format holds, a scalar and a non-contiguous parameter ---------

struct MixedImpl : torch::nn::Module {
  explicit MixedImpl(std::uint64_t seed) {
    torch::manual_seed(seed);
    weight = register_parameter("weight", torch::randn({3, 4}));
    // Non-contiguous storage: the record must still hold the logical row-major order.
    transposed = register_parameter("transposed", torch::randn({2, 5}, torch::kFloat64).t());
    scale = register_parameter("scale", torch::randn({}, torch::kFloat64), /*requires_grad=*/false);
    counts = register_buffer("counts", torch::randint(-1'000'000'000'000LL, 1'000'000'000'000LL, {4}, kI64));
    labels = register_buffer("labels", torch::randint(-100000, 100000, {2, 2}, torch::kInt32));
    bytes = register_buffer("bytes", torch::randint(0, 256, {6}, torch::kUInt8));
    mask = register_buffer("mask", torch::rand({7}) > 0.5);
    empty = register_buffer("empty", torch::zeros({0, 3}));
    child = register_module("child", torch::nn::Linear(4, 2));
  }
  torch::Tensor weight, transposed, scale, counts, labels, bytes, mask, empty;
  torch::nn::Linear child{nullptr};
};
TORCH_MODULE(Mixed);

// --- round trips ----------------------------------------------------------------------------------

TEST(ModelState, EnergyModelFloat32RoundTripIsBitwiseWithBuffers) {
  test::TempDir dir;
  const std::string path = (dir.path() / "energy.h5").string();
  auto saved = energy_model(torch::kFloat32, 1, -1234.5, 17.25);
  save_module(path, *saved, R"({"model":"tiny"})", 42);

  auto loaded = energy_model(torch::kFloat32, 2, 0.0, 1.0);
  ASSERT_GT(differing_tensors(*saved, *loaded), 10);  // other init and other standardisation
  load_module(path, *loaded);
  expect_same_state(*saved, *loaded);
  EXPECT_EQ(loaded->named_buffers()["mean"].item<float>(), -1234.5F);
  EXPECT_EQ(loaded->named_buffers()["std"].item<float>(), 17.25F);

  const auto graph = small_graph(torch::kFloat32);
  const auto expected = saved->forward(graph);
  EXPECT_TRUE(torch::equal(loaded->forward(graph), expected));
  EXPECT_TRUE(torch::equal(loaded->atom_energies(graph), saved->atom_energies(graph)));
  EXPECT_NE(expected.item<float>(), 0.0F);

  const auto checkpoint = parallel_io::read_checkpoint(path);
  EXPECT_EQ(checkpoint.step, 42);
  EXPECT_EQ(checkpoint.config_json, R"({"model":"tiny"})");
  EXPECT_EQ(checkpoint.program_version.rfind("hemeplm ", 0), 0U) << checkpoint.program_version;
}

TEST(ModelState, EnergyModelFloat64RoundTripIsBitwise) {
  test::TempDir dir;
  const std::string path = (dir.path() / "energy64.h5").string();
  auto saved = energy_model(torch::kFloat64, 3, 0.1 + 0.2, 1.0 / 3.0);  // values with full mantissas
  save_module(path, *saved);
  auto loaded = energy_model(torch::kFloat64, 4, 0.0, 1.0);
  load_module(path, *loaded);
  expect_same_state(*saved, *loaded);
  EXPECT_EQ(loaded->named_buffers()["mean"].item<double>(), 0.1 + 0.2);
  const auto graph = small_graph(torch::kFloat64);
  EXPECT_TRUE(torch::equal(loaded->forward(graph), saved->forward(graph)));
}

TEST(ModelState, InterpolatorRoundTripGivesIdenticalOutput) {
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    SCOPED_TRACE(c10::toString(dtype));
    test::TempDir dir;
    const std::string path = (dir.path() / "interpolator.h5").string();
    auto saved = interpolator(2, 16, dtype, 5);
    save_module(path, *saved);
    auto loaded = interpolator(2, 16, dtype, 6);
    ASSERT_GT(differing_tensors(*saved, *loaded), 10);
    load_module(path, *loaded);
    expect_same_state(*saved, *loaded);

    torch::manual_seed(7);
    const auto in = small_trajectory(dtype);
    const auto x = torch::randn({5, 3, 3}, torch::TensorOptions().dtype(dtype));
    const auto expected = saved->forward(in, x);
    EXPECT_GT(expected.abs().max().item<double>(), 0.0);
    EXPECT_TRUE(torch::equal(loaded->forward(in, x), expected));
  }
}

TEST(ModelState, CrossAttentionBlockRoundTrip) {
  test::TempDir dir;
  const std::string path = (dir.path() / "block.h5").string();
  const model::CrossAttentionOptions options{32, 16, 4, true, true};
  torch::manual_seed(8);
  model::CrossAttentionBlock saved(options);
  saved->to(torch::kFloat64);
  {
    // distance_weight_raw starts equal in every block; make it random so that it is checked.
    torch::NoGradGuard no_grad;
    for (auto& p : saved->parameters()) p.add_(0.01 * torch::randn_like(p));
  }
  save_module(path, *saved);
  torch::manual_seed(9);
  model::CrossAttentionBlock loaded(options);
  loaded->to(torch::kFloat64);
  EXPECT_EQ(differing_tensors(*saved, *loaded), static_cast<int>(named_state(*saved).size()));
  load_module(path, *loaded);
  expect_same_state(*saved, *loaded);

  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  model::TokenSet ligand, residues;
  ligand.h = torch::randn({4, 32}, f64);
  ligand.x = 3 * torch::randn({4, 3}, f64);
  ligand.graph = torch::zeros({4}, kI64);
  residues.h = torch::randn({6, 32}, f64);
  residues.x = 3 * torch::randn({6, 3}, f64);
  residues.graph = torch::zeros({6}, kI64);
  const auto c = torch::randn({1, 16}, f64);
  const auto a = saved->forward(ligand, residues, c, 1);
  const auto b = loaded->forward(ligand, residues, c, 1);
  EXPECT_TRUE(torch::equal(a.ligand, b.ligand));
  EXPECT_TRUE(torch::equal(a.residues, b.residues));
  EXPECT_TRUE(torch::equal(a.dx_ligand, b.dx_ligand));
}

TEST(ModelState, EveryDtypeScalarEmptyAndNonContiguousTensor) {
  test::TempDir dir;
  const std::string path = (dir.path() / "mixed.h5").string();
  Mixed saved(10);
  ASSERT_FALSE(saved->transposed.is_contiguous());
  const auto records = module_state_records(*saved);
  std::map<std::string, const TensorRecord*> by_name;
  for (const auto& r : records) by_name[r.name] = &r;
  ASSERT_EQ(records.size(), 10U);
  EXPECT_EQ(by_name.at("weight")->dtype, DType::kFloat32);
  EXPECT_EQ(by_name.at("transposed")->dtype, DType::kFloat64);
  EXPECT_EQ(by_name.at("counts")->dtype, DType::kInt64);
  EXPECT_EQ(by_name.at("labels")->dtype, DType::kInt32);
  EXPECT_EQ(by_name.at("bytes")->dtype, DType::kUInt8);
  EXPECT_EQ(by_name.at("mask")->dtype, DType::kUInt8);
  EXPECT_EQ(by_name.at("scale")->shape, std::vector<std::int64_t>{});
  EXPECT_EQ(by_name.at("empty")->shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(by_name.at("empty")->data.empty());
  // Logical row-major order, not the storage order of the transposed view.
  const auto& t = *by_name.at("transposed");
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{5, 2}));
  ASSERT_EQ(t.data.size(), 10 * sizeof(double));
  double first_row[2];
  std::memcpy(first_row, t.data.data(), sizeof first_row);
  EXPECT_EQ(first_row[0], saved->transposed[0][0].item<double>());
  EXPECT_EQ(first_row[1], saved->transposed[0][1].item<double>());
  // Bool is stored as bytes 0/1.
  const auto& m = *by_name.at("mask");
  for (std::size_t i = 0; i < m.data.size(); ++i)
    EXPECT_EQ(m.data[i], saved->mask[static_cast<std::int64_t>(i)].item<bool>() ? 1 : 0);

  save_module(path, *saved);
  Mixed loaded(11);
  ASSERT_GE(differing_tensors(*saved, *loaded), 7);
  load_module(path, *loaded);
  expect_same_state(*saved, *loaded);
  EXPECT_EQ(loaded->mask.scalar_type(), torch::kBool);
  EXPECT_FALSE(loaded->transposed.is_contiguous());  // loaded in place, not replaced
}

TEST(ModelState, SpecsMatchRecords) {
  const auto model = interpolator(2, 16, torch::kFloat32, 12);
  const auto records = module_state_records(*model);
  const auto specs = module_state_specs(*model);
  ASSERT_EQ(records.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, records[i].name);
    EXPECT_EQ(specs[i].dtype, records[i].dtype);
    EXPECT_EQ(specs[i].shape, records[i].shape);
  }
}

// --- names in the file -------------------------------------------------------------------------------

TEST(ModelState, FileNamesAreTorchModuleTreeNames) {
  test::TempDir dir;
  const std::string path = (dir.path() / "names.h5").string();
  const auto model = energy_model(torch::kFloat32, 13, 0.0, 1.0);
  save_module(path, *model);
  const auto names = names_of(parallel_io::read_checkpoint(path).parameters);

  std::vector<std::string> torch_names;
  for (const auto& [name, tensor] : named_state(*model)) torch_names.push_back(name);
  EXPECT_EQ(names, torch_names);  // same names, same order (parameters, then buffers)
  // Spot checks against names written by hand, so that a renaming in the adapter cannot go unnoticed.
  for (const std::string expected : {"backbone.embedding.weight", "backbone.layer0.q_proj.weight",
                                     "head.block1.vec1_proj.weight", "backbone.rbf.means", "mean", "std"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
}

// --- flags and identity survive a load ------------------------------------------------------------

TEST(ModelState, RequiresGradAndTensorIdentitySurviveLoad) {
  test::TempDir dir;
  const std::string path = (dir.path() / "frozen.h5").string();
  auto saved = interpolator(2, 16, torch::kFloat64, 14);
  saved->freeze_spatial();
  save_module(path, *saved);

  auto frozen = interpolator(2, 16, torch::kFloat64, 15);
  frozen->freeze_spatial();
  auto trainable = interpolator(2, 16, torch::kFloat64, 16);  // not frozen: load must not freeze it
  std::map<std::string, std::pair<bool, void*>> frozen_before;
  for (const auto& p : frozen->named_parameters())
    frozen_before[p.key()] = {p.value().requires_grad(), p->data_ptr()};
  int frozen_count = 0;
  for (const auto& [name, flag_and_pointer] : frozen_before) frozen_count += flag_and_pointer.first ? 0 : 1;
  ASSERT_GT(frozen_count, 0);
  ASSERT_LT(frozen_count, static_cast<int>(frozen_before.size()));

  load_module(path, *frozen);
  load_module(path, *trainable);
  expect_same_state(*saved, *frozen);
  for (const auto& p : frozen->named_parameters()) {
    EXPECT_EQ(p.value().requires_grad(), frozen_before.at(p.key()).first) << p.key();
    EXPECT_EQ(p->data_ptr(), frozen_before.at(p.key()).second) << p.key() << " was replaced, not filled";
    EXPECT_TRUE(p->is_leaf()) << p.key();
  }
  for (const auto& p : trainable->named_parameters()) EXPECT_TRUE(p.value().requires_grad()) << p.key();
  // Gradients still reach the loaded trainable parameters.
  torch::manual_seed(17);
  const auto in = small_trajectory(torch::kFloat64);
  trainable->forward(in, torch::randn({5, 3, 3}, torch::kFloat64)).pow(2).sum().backward();
  EXPECT_TRUE(trainable->named_parameters()["input_linear.weight"].grad().defined());
}

// --- mismatches --------------------------------------------------------------------------------------

TEST(ModelStateErrors, OtherLayerCountListsMissingAndUnexpected) {
  test::TempDir dir;
  const std::string two = (dir.path() / "two-layers.h5").string();
  const std::string three = (dir.path() / "three-layers.h5").string();
  save_module(two, *interpolator(2, 16, torch::kFloat64, 18));
  save_module(three, *interpolator(3, 16, torch::kFloat64, 19));

  auto deeper = interpolator(3, 16, torch::kFloat64, 20);
  const auto before = snapshot(*deeper);
  const std::string missing = error_of([&] { load_module(two, *deeper); });
  EXPECT_NE(missing.find(two), std::string::npos) << missing;
  EXPECT_NE(missing.find("missing '"), std::string::npos) << missing;
  EXPECT_NE(missing.find("spatial.2."), std::string::npos) << missing;
  EXPECT_EQ(missing.find("unexpected '"), std::string::npos) << missing;
  EXPECT_EQ(missing.find('\n'), std::string::npos);
  expect_unchanged(*deeper, before);

  auto shallower = interpolator(2, 16, torch::kFloat64, 21);
  const std::string unexpected = error_of([&] { load_module(three, *shallower); });
  EXPECT_NE(unexpected.find(three), std::string::npos) << unexpected;
  EXPECT_NE(unexpected.find("unexpected '"), std::string::npos) << unexpected;
  // The last layer of a 2-layer model has 5 mixing logits, of a 3-layer model 6: a shape mismatch,
  // counted with the unexpected names (only the first 5 problems are spelled out).
  const auto extra = names_only_in(*interpolator(3, 16, torch::kFloat64, 0), *shallower);
  ASSERT_GT(extra, 5U);
  EXPECT_NE(
      unexpected.find("0 missing, " + std::to_string(extra) + " unexpected, 1 with another shape or dtype"),
      std::string::npos)
      << unexpected;
  EXPECT_NE(unexpected.find("unexpected 'mix_logits_2'"), std::string::npos) << unexpected;
  expect_unchanged(*shallower, snapshot(*interpolator(2, 16, torch::kFloat64, 21)));
}

TEST(ModelStateErrors, OtherWidthListsShapes) {
  test::TempDir dir;
  const std::string path = (dir.path() / "hidden16.h5").string();
  save_module(path, *interpolator(2, 16, torch::kFloat64, 22));
  auto wider = interpolator(2, 24, torch::kFloat64, 23);
  const auto before = snapshot(*wider);
  const std::string message = error_of([&] { load_module(path, *wider); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'input_linear.weight' is [16,62] float64, model expects [24,62] float64"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("0 missing, 0 unexpected"), std::string::npos) << message;
  expect_unchanged(*wider, before);
}

TEST(ModelStateErrors, Float32CheckpointIntoFloat64ModelIsDtypeError) {
  test::TempDir dir;
  const std::string path = (dir.path() / "f32.h5").string();
  save_module(path, *energy_model(torch::kFloat32, 24, 0.0, 1.0));
  auto model64 = energy_model(torch::kFloat64, 25, 0.0, 1.0);
  const auto before = snapshot(*model64);
  const std::string message = error_of([&] { load_module(path, *model64); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("float32, model expects"), std::string::npos) << message;
  // Every tensor of the model is floating point, so every one is reported (5 listed, the rest counted).
  const auto count = named_state(*model64).size();
  EXPECT_NE(
      message.find("0 missing, 0 unexpected, " + std::to_string(count) + " with another shape or dtype"),
      std::string::npos)
      << message;
  EXPECT_NE(message.find("and " + std::to_string(count - 5) + " more"), std::string::npos) << message;
  expect_unchanged(*model64, before);
}

TEST(ModelStateErrors, OtherConfigOfEnergyModel) {
  test::TempDir dir;
  const std::string path = (dir.path() / "tiny.h5").string();
  save_module(path, *energy_model(torch::kFloat32, 26, 0.0, 1.0));
  auto config = model::visnet_config("tiny");
  config.layers += 1;
  model::EnergyModel deeper(config);
  const std::string message = error_of([&] { load_module(path, *deeper); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  // Layer 1 is no longer the last one, so it now has the edge-update projections the file lacks.
  const auto absent = names_only_in(*deeper, *energy_model(torch::kFloat32, 0, 0.0, 1.0));
  EXPECT_NE(message.find(std::to_string(absent) + " missing, 0 unexpected, 0 with another shape or dtype"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("missing 'backbone.layer1.f_proj.weight'"), std::string::npos) << message;
}

TEST(ModelStateErrors, RecordWithWrongByteCountLeavesModelUnchanged) {
  auto model = interpolator(2, 16, torch::kFloat32, 27);
  auto records = module_state_records(*interpolator(2, 16, torch::kFloat32, 28));
  records.back().data.pop_back();  // the last record is copied last: nothing may be copied before
  const auto before = snapshot(*model);
  const std::string message = error_of([&] { load_module_state(*model, records, "memory.h5"); });
  EXPECT_NE(message.find("memory.h5"), std::string::npos) << message;
  EXPECT_NE(message.find(records.back().name), std::string::npos) << message;
  expect_unchanged(*model, before);
}

TEST(ModelStateErrors, UnsupportedDtypeIsUsageErrorNamingTheTensor) {
  torch::nn::Module module;
  module.register_buffer("half_buffer", torch::zeros({2}, torch::kFloat16));
  try {
    module_state_records(module);
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("half_buffer"), std::string::npos) << e.what();
  }
  EXPECT_THROW(module_state_specs(module), UsageError);
}

TEST(ModelStateErrors, MissingFileIsInputError) {
  test::TempDir dir;
  auto model = interpolator(2, 16, torch::kFloat32, 29);
  const std::string path = (dir.path() / "absent.h5").string();
  const std::string message = error_of([&] { load_module(path, *model); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

// --- device -----------------------------------------------------------------------------------------

TEST(ModelState, LoadsOntoTheModuleDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the device path is not exercised";
  test::TempDir dir;
  const std::string path = (dir.path() / "cuda.h5").string();
  auto saved = interpolator(2, 16, torch::kFloat32, 30);
  saved->to(torch::kCUDA);
  save_module(path, *saved);  // records are CPU bytes whatever the device
  auto loaded = interpolator(2, 16, torch::kFloat32, 31);
  loaded->to(torch::kCUDA);
  load_module(path, *loaded);
  for (const auto& p : loaded->parameters()) EXPECT_TRUE(p.is_cuda());
  expect_same_state(*saved, *loaded);
}

}  // namespace
}  // namespace hemeplm::train

namespace hemeplm::train {
namespace {

// The assembled model on the example complex: every parameter and buffer of HemePLM goes through a
// checkpoint file by name and a freshly initialised model then gives the same eps_hat bit for bit.
TEST(ModelState, HemePLMRoundTripGivesIdenticalEpsHat) {
  const System system = load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
  ModelInputOptions options;
  options.dtype = torch::kFloat64;
  options.domains = static_cast<int>(model::model_config("tiny").pooling_domains);
  const auto positions = make_model_input(system, {}, options).context_positions;
  const auto frames = positions.unsqueeze(1).repeat({1, 3, 1});
  auto input = make_model_input(system, frames, options);
  input.known_frames = torch::tensor({1, 0, 0}, torch::kLong).to(torch::kBool);
  input.diffusion_step = torch::tensor({250}, torch::kLong);
  const auto x_t = frames + torch::randn_like(frames);

  test::TempDir dir;
  const std::string path = (dir.path() / "hemeplm.h5").string();
  torch::manual_seed(31);
  model::HemePLM saved(model::model_config("tiny"));
  saved->to(torch::kFloat64);
  saved->freeze_spatial();
  save_module(path, *saved);

  torch::manual_seed(32);
  model::HemePLM loaded(model::model_config("tiny"));
  loaded->to(torch::kFloat64);
  const auto before = loaded->forward(input, x_t);
  const auto expected = saved->forward(input, x_t);
  ASSERT_FALSE(torch::equal(before, expected));
  load_module(path, *loaded);
  EXPECT_TRUE(torch::equal(loaded->forward(input, x_t), expected));

  const auto checkpoint = parallel_io::read_checkpoint(path);
  std::set<std::string> top;
  for (const auto& r : checkpoint.parameters) top.insert(r.name.substr(0, r.name.find('.')));
  EXPECT_EQ(top, (std::set<std::string>{"energy_model", "time_mlp", "residue_tokens", "cross_attention",
                                        "pooling", "denoiser", "context_adapter"}));
}

}  // namespace
}  // namespace hemeplm::train
