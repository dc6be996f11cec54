// concatenate_inputs and HemePLMInput::context_graph on two small hand-made inputs: every index is
// offset by what precedes it, -1 stays -1, graphs are renumbered, mismatched frames are refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/hemeplm_model.hpp"

namespace hemeplm::model {
namespace {

const auto kI64 = torch::TensorOptions().dtype(torch::kInt64);
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor ints(std::vector<std::int64_t> v) {
  return torch::tensor(v, kI64);
}
torch::Tensor bools(std::vector<std::int64_t> v) {
  return ints(std::move(v)).to(torch::kBool);
}

/// Input A: 3 atoms in one graph, a chain 0-1-2, one residue (atoms 0, 1; anchor 1), atom 2 is ligand.
HemePLMInput input_a() {
  HemePLMInput in;
  in.atomic_numbers = ints({6, 6, 8});
  in.atom_features = torch::zeros({3, 42}, kF64);
  in.atom_graph = ints({0, 0, 0});
  in.graph_count = 1;
  in.diffusion_step = ints({7});
  in.bond_src = ints({0, 1, 1, 2});
  in.bond_dst = ints({1, 0, 2, 1});
  in.bond_type = ints({1, 1, 2, 2});
  in.context_positions = torch::arange(9, kF64).reshape({3, 3});
  in.radius_src = ints({0, 2});
  in.radius_dst = ints({2, 0});
  in.atom_residue = ints({0, 0, -1});
  in.residue_type = ints({3});
  in.residue_anchor = ints({1});
  in.residue_domain = ints({0});
  in.ligand_atom = bools({0, 0, 1});
  in.frame_times = torch::arange(2, kI64);
  in.x_given = torch::zeros({3, 2, 3}, kF64);
  return in;
}

/// Input B: 4 atoms in two graphs (0, 0, 1, 1), two residues (anchors 0 and 3), atom 1 in none,
/// a periodic shift on its radius edges.
HemePLMInput input_b() {
  HemePLMInput in;
  in.atomic_numbers = ints({7, 6, 6, 26});
  in.atom_features = torch::ones({4, 42}, kF64);
  in.atom_graph = ints({0, 0, 1, 1});
  in.graph_count = 2;
  in.diffusion_step = ints({3, 5});
  in.bond_src = ints({0, 1});
  in.bond_dst = ints({1, 0});
  in.bond_type = ints({5, 5});
  in.context_positions = torch::ones({4, 3}, kF64);
  in.radius_src = ints({2, 3, 1});
  in.radius_dst = ints({3, 2, 0});
  in.radius_shift = torch::full({3, 3}, 0.5, kF64);
  in.atom_residue = ints({0, -1, 1, 1});
  in.residue_type = ints({7, 20});
  in.residue_anchor = ints({0, 3});
  in.residue_domain = ints({1, -1});
  in.ligand_atom = bools({0, 0, 0, 0});
  in.frame_times = torch::arange(2, kI64);
  in.x_given = torch::ones({4, 2, 3}, kF64);
  return in;
}

TEST(HemePLMInput, ConcatenateOffsetsEveryIndex) {
  const HemePLMInput out = concatenate_inputs({input_a(), input_b()});
  EXPECT_EQ(out.atom_count(), 7);
  EXPECT_EQ(out.graph_count, 3);
  EXPECT_EQ(out.residue_count(), 3);
  EXPECT_TRUE(torch::equal(out.atomic_numbers, ints({6, 6, 8, 7, 6, 6, 26})));
  EXPECT_EQ(out.atom_features.sizes(), (std::vector<std::int64_t>{7, 42}));
  EXPECT_TRUE(torch::equal(out.atom_graph, ints({0, 0, 0, 1, 1, 2, 2})));
  EXPECT_TRUE(torch::equal(out.diffusion_step, ints({7, 3, 5})));
  EXPECT_TRUE(torch::equal(out.bond_src, ints({0, 1, 1, 2, 3, 4})));
  EXPECT_TRUE(torch::equal(out.bond_dst, ints({1, 0, 2, 1, 4, 3})));
  EXPECT_TRUE(torch::equal(out.bond_type, ints({1, 1, 2, 2, 5, 5})));
  EXPECT_TRUE(torch::equal(out.radius_src, ints({0, 2, 5, 6, 4})));
  EXPECT_TRUE(torch::equal(out.radius_dst, ints({2, 0, 6, 5, 3})));
  // A has no box: its edges get zero shifts next to B's.
  ASSERT_TRUE(out.radius_shift.defined());
  EXPECT_TRUE(torch::equal(out.radius_shift.slice(0, 0, 2), torch::zeros({2, 3}, kF64)));
  EXPECT_TRUE(torch::equal(out.radius_shift.slice(0, 2), torch::full({3, 3}, 0.5, kF64)));
  EXPECT_TRUE(torch::equal(out.atom_residue, ints({0, 0, -1, 1, -1, 2, 2})));
  EXPECT_TRUE(torch::equal(out.residue_type, ints({3, 7, 20})));
  EXPECT_TRUE(torch::equal(out.residue_anchor, ints({1, 3, 6})));
  EXPECT_TRUE(torch::equal(out.residue_domain, ints({0, 1, -1})));  // domains are per graph: unchanged
  EXPECT_TRUE(torch::equal(out.ligand_atom, bools({0, 0, 1, 0, 0, 0, 0})));
  EXPECT_TRUE(torch::equal(out.frame_times, torch::arange(2, kI64)));
  EXPECT_FALSE(out.known_frames.defined());
  EXPECT_FALSE(out.known_atoms.defined());
  EXPECT_EQ(out.x_given.sizes(), (std::vector<std::int64_t>{7, 2, 3}));
  EXPECT_TRUE(torch::equal(out.x_given.slice(0, 3), torch::ones({4, 2, 3}, kF64)));
  EXPECT_TRUE(torch::equal(out.context_positions.slice(0, 0, 3), input_a().context_positions));
}

TEST(HemePLMInput, ConcatenateMasks) {
  auto a = input_a();
  auto b = input_b();
  a.known_frames = b.known_frames = bools({1, 0});
  a.known_atoms = bools({1, 1, 0, 0, 1, 0}).reshape({3, 2});
  b.known_atoms = torch::zeros({4, 2}, kI64).to(torch::kBool);
  const HemePLMInput out = concatenate_inputs({a, b});
  EXPECT_TRUE(torch::equal(out.known_frames, bools({1, 0})));
  EXPECT_EQ(out.known_atoms.sizes(), (std::vector<std::int64_t>{7, 2}));
  EXPECT_TRUE(torch::equal(out.known_atoms.slice(0, 0, 3), a.known_atoms));
  // One input is the identity.
  const HemePLMInput same = concatenate_inputs({b});
  EXPECT_TRUE(torch::equal(same.radius_src, b.radius_src));
  EXPECT_TRUE(torch::equal(same.atom_residue, b.atom_residue));
}

TEST(HemePLMInput, ConcatenateRefusesMismatches) {
  EXPECT_THROW(concatenate_inputs({}), UsageError);
  auto b = input_b();
  b.frame_times = ints({0, 2});
  EXPECT_THROW(concatenate_inputs({input_a(), b}), UsageError);
  b = input_b();
  b.known_frames = bools({1, 0});
  EXPECT_THROW(concatenate_inputs({input_a(), b}), UsageError);
  b = input_b();
  b.context_positions = torch::Tensor();
  EXPECT_THROW(concatenate_inputs({input_a(), b}), UsageError);
  b = input_b();
  b.x_given = torch::Tensor();
  EXPECT_THROW(concatenate_inputs({input_a(), b}), UsageError);
  b = input_b();
  b.x_given = b.x_given.to(torch::kFloat32);
  EXPECT_THROW(concatenate_inputs({input_a(), b}), UsageError);
  try {
    b = input_b();
    b.frame_times = ints({0, 1, 2});
    concatenate_inputs({input_a(), b});
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("input 1"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(HemePLMInput, ContextGraph) {
  const auto b = input_b();
  const AtomGraph g = b.context_graph();
  EXPECT_TRUE(g.positions.is_same(b.context_positions));
  EXPECT_TRUE(g.edge_src.is_same(b.radius_src));
  EXPECT_TRUE(g.edge_dst.is_same(b.radius_dst));
  EXPECT_TRUE(g.edge_shift.is_same(b.radius_shift));
  EXPECT_TRUE(g.batch.is_same(b.atom_graph));
  EXPECT_TRUE(g.atomic_numbers.is_same(b.atomic_numbers));
  EXPECT_EQ(g.graph_count, 2);
  auto no_context = b;
  no_context.context_positions = torch::Tensor();
  EXPECT_THROW(no_context.context_graph(), UsageError);
}

}  // namespace
}  // namespace hemeplm::model
