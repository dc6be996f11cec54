// Precomputed residue embeddings on the example complex (50-residue protein + ibuprofen SDF): the lookup
// in make_model_input, the error for a residue the table lacks, and what they do to a tiny HemePLM
// (float64): they reach the residue tokens, the cross-attention and eps_hat (with a gradient to the
// projection), equivariance holds with them, and a model without them is today's model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/parallel_io/residue_embeddings.hpp"
#include "hemeplm/train/model_input.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
constexpr std::int64_t kWidth = 6;

const System& example() {
  static const System system = load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
  return system;
}

parallel_io::ResidueKey key_of(const System& s, const Residue& r) {
  return {s.chains[static_cast<std::size_t>(r.chain)].name, r.seq, r.insertion};
}

/// Writes a float32 NPY v1 file of `values` [R, E] and its keys sidecar; returns the .npy path.
std::string write_npy_table(const test::TempDir& dir, const std::string& stem, const torch::Tensor& values,
                            const std::vector<parallel_io::ResidueKey>& keys) {
  const auto v = values.to(torch::kFloat32).contiguous();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(v.size(0)) +
                       ", " + std::to_string(v.size(1)) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  const std::string path = (dir.path() / (stem + ".npy")).string();
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto length = static_cast<std::uint16_t>(header.size());
  const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(length_bytes, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(v.data_ptr<float>()), static_cast<std::streamsize>(v.numel() * 4));
  std::string csv = "chain,residue_number,insertion_code\n";
  for (const auto& k : keys)
    csv += k.chain + "," + std::to_string(k.number) + "," +
           (k.insertion == ' ' ? "" : std::string(1, k.insertion)) + "\n";
  dir.write(stem + ".keys.csv", csv);
  return path;
}

/// Keys of every amino acid of the example, and random rows for them.
struct Table {
  std::vector<parallel_io::ResidueKey> keys;
  torch::Tensor values;
};

Table amino_acid_table(std::uint64_t seed) {
  Table t;
  for (const Residue& r : example().residues)
    if (r.kind == ResidueKind::kAminoAcid) t.keys.push_back(key_of(example(), r));
  torch::manual_seed(seed);
  t.values = torch::randn({static_cast<std::int64_t>(t.keys.size()), kWidth}, kF64);
  return t;
}

ModelInputOptions options_for(const model::HemePLMConfig& config) {
  ModelInputOptions o;
  o.dtype = torch::kFloat64;
  o.cutoff = config.visnet.cutoff;
  o.domains = static_cast<int>(config.pooling_domains);
  return o;
}

model::HemePLMInput two_frame_input(const ModelInputOptions& options) {
  const auto frames = make_model_input(example(), {}, options).x_given.repeat({1, 2, 1});
  torch::manual_seed(3);
  auto in = make_model_input(example(), frames + 0.1 * torch::randn_like(frames), options);
  in.known_frames = torch::tensor({true, false});
  in.diffusion_step = torch::tensor({std::int64_t{30}});
  return in;
}

model::HemePLMConfig tiny_with_embeddings(std::int64_t width) {
  auto config = model::model_config("tiny");
  config.residue_embedding_dim = width;
  return config;
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-300, b.norm().item<double>());
}

TEST(ResidueEmbeddingInput, RowsAreTheTableRowsOfEachTokenResidue) {
  test::TempDir dir;
  const Table t = amino_acid_table(1);
  const auto table = parallel_io::ResidueEmbeddingTable::read(write_npy_table(dir, "e", t.values, t.keys));
  ModelInputOptions options = options_for(model::model_config("tiny"));
  options.residue_embeddings = table;
  const auto in = make_model_input(example(), {}, options);
  ASSERT_TRUE(in.residue_embedding.defined());
  ASSERT_EQ(in.residue_embedding.sizes(), (std::vector<std::int64_t>{in.residue_count(), kWidth}));
  EXPECT_EQ(in.residue_embedding.scalar_type(), torch::kFloat64);
  ASSERT_EQ(in.residue_count(), 50);
  for (std::int64_t k = 0; k < in.residue_count(); ++k) {
    // The token's residue through its anchor atom, independently of the lookup's own bookkeeping.
    const int anchor = static_cast<int>(in.residue_anchor[k].item<std::int64_t>());
    const Residue& residue = example().residues[static_cast<std::size_t>(example().atom_residue[anchor])];
    const auto row = table->find(key_of(example(), residue));
    ASSERT_EQ(row.size(), static_cast<std::size_t>(kWidth));
    for (std::int64_t e = 0; e < kWidth; ++e)
      EXPECT_EQ(in.residue_embedding[k][e].item<double>(),
                static_cast<double>(row[static_cast<std::size_t>(e)]));
  }
  // float32 inputs take float32 rows; no table, no embeddings.
  options.dtype = torch::kFloat32;
  EXPECT_EQ(make_model_input(example(), {}, options).residue_embedding.scalar_type(), torch::kFloat32);
  options.residue_embeddings = nullptr;
  EXPECT_FALSE(make_model_input(example(), {}, options).residue_embedding.defined());
}

TEST(ResidueEmbeddingInput, MissingAminoAcidIsAUsageErrorNamingResidueAndFile) {
  test::TempDir dir;
  Table t = amino_acid_table(1);
  const auto missing = t.keys[4];
  t.keys.erase(t.keys.begin() + 4);
  t.values = torch::cat({t.values.slice(0, 0, 4), t.values.slice(0, 5)});
  const std::string path = write_npy_table(dir, "short", t.values, t.keys);
  ModelInputOptions options;
  options.residue_embeddings = parallel_io::ResidueEmbeddingTable::read(path);
  try {
    make_model_input(example(), {}, options);
    FAIL() << "no error for a residue missing from the table";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(missing.to_string() + " ("), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
}

TEST(ResidueEmbeddingModel, EmbeddingsReachTokensCrossAttentionAndOutput) {
  test::TempDir dir;
  const auto config = tiny_with_embeddings(kWidth);
  ASSERT_GT(config.cross_attention_blocks, 0);
  const Table a = amino_acid_table(1), b = amino_acid_table(2);
  auto options = options_for(config);
  options.residue_embeddings =
      parallel_io::ResidueEmbeddingTable::read(write_npy_table(dir, "a", a.values, a.keys));
  const auto in_a = two_frame_input(options);
  options.residue_embeddings =
      parallel_io::ResidueEmbeddingTable::read(write_npy_table(dir, "b", b.values, b.keys));
  const auto in_b = two_frame_input(options);
  ASSERT_TRUE(torch::equal(in_a.x_given, in_b.x_given));

  torch::manual_seed(11);
  model::HemePLM net(config);
  net->to(torch::kFloat64);
  net->eval();
  const auto x_t = in_a.x_given + torch::randn_like(in_a.x_given);

  {
    torch::NoGradGuard no_grad;
    const auto tokens_a = net->encode(in_a).residue_tokens, tokens_b = net->encode(in_b).residue_tokens;
    EXPECT_GT((tokens_a - tokens_b).abs().max().item<double>(), 1e-6);
    const auto eps_a = net->forward(in_a, x_t), eps_b = net->forward(in_b, x_t);
    EXPECT_GT(rel(eps_a, eps_b), 1e-6);
    // Ligand atoms are not residue tokens: their change arrives through the cross-attention.
    const auto ligand = in_a.ligand_atom;
    ASSERT_GT(ligand.sum().item<std::int64_t>(), 0);
    EXPECT_GT((eps_a.index({ligand}) - eps_b.index({ligand})).abs().max().item<double>(), 1e-8);
  }

  // The denoiser's output depends on the projection: a non-zero gradient through eps_hat.
  net->zero_grad();
  net->forward(in_a, x_t).pow(2).sum().backward();
  const auto parameters = net->named_parameters();
  ASSERT_TRUE(parameters.contains("residue_embedding.weight"));
  const auto grad = parameters["residue_embedding.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().max().item<double>(), 0.0);
  EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
}

TEST(ResidueEmbeddingModel, EquivariantWithEmbeddings) {
  test::TempDir dir;
  const auto config = tiny_with_embeddings(kWidth);
  const Table t = amino_acid_table(5);
  auto options = options_for(config);
  options.residue_embeddings =
      parallel_io::ResidueEmbeddingTable::read(write_npy_table(dir, "e", t.values, t.keys));
  const auto in = two_frame_input(options);
  torch::manual_seed(13);
  model::HemePLM net(config);
  net->to(torch::kFloat64);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto eps = net->forward(in, x_t);

  auto [q, r] = torch::linalg::qr(torch::randn({3, 3}, kF64));
  q = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
  if (torch::det(q).item<double>() < 0) q.select(1, 0).neg_();
  const auto shift = torch::tensor({4.0, -2.0, 7.5}, kF64);
  auto moved = in;
  moved.context_positions = in.context_positions.matmul(q.t()) + shift;
  moved.x_given = in.x_given.matmul(q.t()) + shift;
  const auto eps_moved = net->forward(moved, x_t.matmul(q.t()) + shift);
  EXPECT_LT(rel(eps_moved, eps.matmul(q.t())), 1e-9);
}

TEST(ResidueEmbeddingModel, WithoutEmbeddingsTheModelIsUnchanged) {
  const auto plain_config = model::model_config("tiny");
  ASSERT_EQ(plain_config.residue_embedding_dim, 0);
  const auto in = two_frame_input(options_for(plain_config));
  EXPECT_FALSE(in.residue_embedding.defined());

  torch::manual_seed(17);
  model::HemePLM plain(plain_config);
  plain->to(torch::kFloat64);
  plain->eval();
  for (const auto& item : plain->named_parameters())
    EXPECT_EQ(item.key().rfind("residue_embedding", 0), std::string::npos) << item.key();

  // The same parameters plus a zero projection: adding zero embeddings is exactly today's output.
  model::HemePLM with(tiny_with_embeddings(kWidth));
  with->to(torch::kFloat64);
  with->eval();
  torch::NoGradGuard no_grad;
  auto theirs = with->named_parameters();
  for (const auto& item : plain->named_parameters()) theirs[item.key()].copy_(item.value());
  for (const auto& item : plain->named_buffers()) with->named_buffers()[item.key()].copy_(item.value());
  theirs["residue_embedding.weight"].zero_();
  theirs["residue_embedding.bias"].zero_();
  EXPECT_EQ(with->named_parameters().size(), plain->named_parameters().size() + 2);

  const auto x_t = in.x_given + 0.5 * torch::ones_like(in.x_given);
  const auto eps_plain = plain->forward(in, x_t);
  auto in_with = in;
  in_with.residue_embedding = torch::randn({in.residue_count(), kWidth}, kF64);
  EXPECT_EQ((with->forward(in_with, x_t) - eps_plain).abs().max().item<double>(), 0.0);

  // Each model refuses the other's input.
  EXPECT_THROW(plain->forward(in_with, x_t), UsageError);
  EXPECT_THROW(with->forward(in, x_t), UsageError);
}

}  // namespace
}  // namespace hemeplm::train
