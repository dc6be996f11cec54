// make_model_input on the example complex (50-residue protein + ibuprofen SDF): shapes, the radius
// graph against an O(N^2) count (open and periodic), residue tokens, ligand atoms, domains, and a tiny
// HemePLM forward on the result (alone and batched with concatenate_inputs).
#include "hemeplm/train/model_input.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <set>
#include <string>

#include "hemeplm/core/bond_graph.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/model/config.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

const ModelInputOptions kF64Options = [] {
  ModelInputOptions o;
  o.dtype = torch::kFloat64;
  return o;
}();

const System& example() {
  static const System system = load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
  return system;
}

/// Atom count from the SDF counts line (first three columns of line 4).
int sdf_atom_count(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < 4; ++i) std::getline(in, line);
  return std::stoi(line.substr(0, 3));
}

/// O(N^2) count of ordered pairs i != j closer than the cutoff; minimum image for an orthorhombic box.
std::int64_t brute_force_pairs(const System& s, double cutoff) {
  std::int64_t pairs = 0;
  for (int i = 0; i < s.atom_count(); ++i) {
    for (int j = 0; j < s.atom_count(); ++j) {
      if (i == j) continue;
      double d[3] = {s.positions[j].x - s.positions[i].x, s.positions[j].y - s.positions[i].y,
                     s.positions[j].z - s.positions[i].z};
      if (s.box) {
        for (int k = 0; k < 3; ++k) {
          const double l = s.box->vectors[k][k];
          d[k] -= l * std::round(d[k] / l);
        }
      }
      pairs += d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < cutoff * cutoff;
    }
  }
  return pairs;
}

/// Every radius edge: no self-loop, length < cutoff, and its reverse present.
void expect_valid_radius_graph(const model::HemePLMInput& in, double cutoff) {
  auto vec = in.context_positions.index_select(0, in.radius_src) -
             in.context_positions.index_select(0, in.radius_dst);
  if (in.radius_shift.defined()) vec = vec + in.radius_shift;
  const auto r = vec.norm(2, 1);
  EXPECT_LT(r.max().item<double>(), cutoff);
  EXPECT_GT(r.min().item<double>(), 0.5);  // no self-loops, no overlapping atoms
  EXPECT_FALSE(in.radius_src.eq(in.radius_dst).any().item<bool>());
  const auto n = in.atom_count();
  auto forward = (in.radius_src * n + in.radius_dst).sort();
  auto backward = (in.radius_dst * n + in.radius_src).sort();
  EXPECT_TRUE(torch::equal(std::get<0>(forward), std::get<0>(backward)));
}

TEST(ModelInput, ExampleComplexShapes) {
  const System& s = example();
  const auto n = s.atom_count();
  const model::HemePLMInput in = make_model_input(s, {}, kF64Options);
  EXPECT_EQ(in.atom_count(), n);
  EXPECT_EQ(in.atom_features.sizes(), (std::vector<std::int64_t>{n, 42}));
  EXPECT_EQ(in.atom_features.scalar_type(), torch::kFloat64);
  EXPECT_EQ(in.atomic_numbers.scalar_type(), torch::kInt64);
  EXPECT_EQ(in.atomic_numbers[1].item<std::int64_t>(), 6);  // SER 1 CA
  EXPECT_TRUE(torch::equal(in.atom_graph, torch::zeros({n}, torch::kInt64)));
  EXPECT_EQ(in.graph_count, 1);
  EXPECT_EQ(in.diffusion_step.sizes(), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(in.x_given.sizes(), (std::vector<std::int64_t>{n, 1, 3}));
  EXPECT_TRUE(torch::equal(in.frame_times, torch::arange(1, torch::kInt64)));
  EXPECT_FALSE(in.known_frames.defined());
  EXPECT_FALSE(in.known_atoms.defined());
  EXPECT_TRUE(torch::equal(in.x_given.select(1, 0), in.context_positions));
  EXPECT_DOUBLE_EQ(in.context_positions[n - 1][2].item<double>(), s.positions[n - 1].z);
  // Features are the System's, row for row.
  EXPECT_FLOAT_EQ(in.atom_features[7][9].item<double>(), s.features[7 * 42 + 9]);
  // Bond graph = core's.
  const BondGraph bonds = bond_hop_edges(s, 3);
  EXPECT_EQ(in.bond_src.numel(), bonds.edge_count());
  EXPECT_LT(in.bond_type.max().item<std::int64_t>(), 50);
}

TEST(ModelInput, RadiusGraphMatchesBruteForce) {
  const System& s = example();
  for (double cutoff : {3.0, 5.0}) {
    ModelInputOptions options = kF64Options;
    options.cutoff = cutoff;
    const model::HemePLMInput in = make_model_input(s, {}, options);
    EXPECT_FALSE(in.radius_shift.defined());
    EXPECT_EQ(in.radius_src.numel(), brute_force_pairs(s, cutoff)) << "cutoff " << cutoff;
    expect_valid_radius_graph(in, cutoff);
  }
}

TEST(ModelInput, PeriodicShiftsAreMinimumImages) {
  System s = example();
  // A box just larger than the complex: atoms near opposite faces become periodic neighbours.
  Vec3 lo = s.positions[0], hi = s.positions[0];
  for (const Vec3& p : s.positions) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
  }
  Box box;
  box.vectors = {Vec3{hi.x - lo.x + 2, 0, 0}, Vec3{0, hi.y - lo.y + 2, 0}, Vec3{0, 0, hi.z - lo.z + 2}};
  s.box = box;
  const model::HemePLMInput in = make_model_input(s, {}, kF64Options);
  ASSERT_TRUE(in.radius_shift.defined());
  EXPECT_EQ(in.radius_shift.sizes(), (std::vector<std::int64_t>{in.radius_src.numel(), 3}));
  EXPECT_GT(in.radius_shift.abs().sum(1).gt(0).sum().item<std::int64_t>(), 0) << "no edge crosses the box";
  EXPECT_EQ(in.radius_src.numel(), brute_force_pairs(s, 5.0));
  expect_valid_radius_graph(in, 5.0);
  // The model's context graph carries the same shifts.
  EXPECT_TRUE(in.context_graph().edge_shift.is_same(in.radius_shift));
}

TEST(ModelInput, ResidueTokensAndLigand) {
  const System& s = example();
  const model::HemePLMInput in = make_model_input(s, {}, kF64Options);
  ASSERT_EQ(in.residue_count(), 50);  // two chains of 25 amino acids
  // SER A1, PRO A2, GLU A3 ... and LYS B25 (the last one).
  EXPECT_EQ(in.residue_type[0].item<std::int64_t>(), 15);
  EXPECT_EQ(in.residue_type[1].item<std::int64_t>(), 14);
  EXPECT_EQ(in.residue_type[2].item<std::int64_t>(), 6);
  EXPECT_EQ(in.residue_type[49].item<std::int64_t>(), 11);
  for (std::int64_t r = 0; r < in.residue_count(); ++r) {
    const auto anchor = in.residue_anchor[r].item<std::int64_t>();
    EXPECT_EQ(s.atom_names[anchor], "CA");
    EXPECT_EQ(in.atom_residue[anchor].item<std::int64_t>(), r);
  }
  EXPECT_EQ(in.residue_anchor[0].item<std::int64_t>(), 1);
  // Ligand atoms: all of the SDF's, no residue token.
  const int ligand_atoms = sdf_atom_count(test::source_file("inputs/example/ligand.sdf"));
  EXPECT_EQ(ligand_atoms, 33);
  EXPECT_EQ(in.ligand_atom.sum().item<std::int64_t>(), ligand_atoms);
  EXPECT_TRUE(in.ligand_atom.slice(0, s.atom_count() - ligand_atoms).all().item<bool>());
  EXPECT_TRUE(in.atom_residue.masked_select(in.ligand_atom).eq(-1).all().item<bool>());
  EXPECT_TRUE(in.atom_residue.masked_select(in.ligand_atom.logical_not()).ge(0).all().item<bool>());
  // Domains: 8 non-empty domains over the 50 residues.
  EXPECT_EQ(in.residue_domain.min().item<std::int64_t>(), 0);
  EXPECT_EQ(std::get<0>(torch::_unique(in.residue_domain)).numel(), 8);
}

TEST(ModelInput, DomainCountAdaptsAndCanBeOff) {
  ModelInputOptions options = kF64Options;
  options.domains = 500;  // more than the 50 residues: one residue per domain, no error
  auto in = make_model_input(example(), {}, options);
  EXPECT_EQ(std::get<0>(torch::_unique(in.residue_domain)).numel(), 50);
  options.domains = 0;
  in = make_model_input(example(), {}, options);
  EXPECT_TRUE(in.residue_domain.eq(-1).all().item<bool>());
  options.domains = -1;
  EXPECT_THROW(make_model_input(example(), {}, options), UsageError);
}

TEST(ModelInput, ResidueTypeNames) {
  EXPECT_EQ(residue_type_index("ALA"), 0);
  EXPECT_EQ(residue_type_index("VAL"), 19);
  EXPECT_EQ(residue_type_index("HSD"), residue_type_index("HIS"));
  EXPECT_EQ(residue_type_index("HIP"), 8);
  EXPECT_EQ(residue_type_index("CYX"), 4);
  EXPECT_EQ(residue_type_index("ASH"), 3);
  EXPECT_EQ(residue_type_index("GLH"), 6);
  EXPECT_EQ(residue_type_index("LYN"), 11);
  EXPECT_EQ(residue_type_index("MSE"), 12);
  EXPECT_EQ(residue_type_index("HEM"), kOtherResidueType);
  EXPECT_EQ(residue_type_index("XYZ"), kOtherResidueType);
}

TEST(ModelInput, MetalCofactorIsAnchoredOnTheMetal) {
  // A heme-like cofactor: a HETATM group with an iron next to the example protein.
  const test::TempDir dir;
  const std::string cofactor =
      "HETATM    1 FE   HEM X   1      30.000  30.000  30.000  1.00  0.00          FE\n"
      "HETATM    2  NA  HEM X   1      32.000  30.000  30.000  1.00  0.00           N\n"
      "HETATM    3  NB  HEM X   1      30.000  32.000  30.000  1.00  0.00           N\n"
      "END\n";
  const std::string receptor = dir.write("hem.pdb", cofactor);
  const System s = load_system({receptor, {test::source_file("inputs/example/ligand.sdf")}});
  ASSERT_EQ(s.residues[0].kind, ResidueKind::kCofactor);
  const auto in = make_model_input(s, {}, kF64Options);
  ASSERT_EQ(in.residue_count(), 1);
  EXPECT_EQ(in.residue_type[0].item<std::int64_t>(), kOtherResidueType);
  EXPECT_EQ(in.residue_anchor[0].item<std::int64_t>(), 0);
  EXPECT_EQ(in.atom_residue.slice(0, 0, 3).eq(0).sum().item<std::int64_t>(), 3);
}

TEST(ModelInput, FramesAndErrors) {
  const System& s = example();
  const auto n = s.atom_count();
  const auto x = torch::randn({n, 4, 3}, torch::kFloat32);
  const auto in = make_model_input(s, x, kF64Options);
  EXPECT_EQ(in.x_given.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(in.x_given, x.to(torch::kFloat64)));
  EXPECT_TRUE(torch::equal(in.frame_times, torch::arange(4, torch::kInt64)));
  EXPECT_THROW(make_model_input(s, torch::zeros({n - 1, 4, 3}), kF64Options), UsageError);
  EXPECT_THROW(make_model_input(s, torch::zeros({n, 4}), kF64Options), UsageError);
  ModelInputOptions no_context = kF64Options;
  no_context.with_context = false;
  const auto bare = make_model_input(s, {}, no_context);
  EXPECT_FALSE(bare.context_positions.defined());
  EXPECT_FALSE(bare.radius_src.defined());
  EXPECT_THROW(bare.context_graph(), UsageError);
  // A System without features gets them computed.
  System stripped = s;
  stripped.features.clear();
  const auto refeaturized = make_model_input(stripped, {}, kF64Options);
  EXPECT_TRUE(torch::equal(refeaturized.atom_features, in.atom_features));
}

TEST(ModelInput, TinyModelForwardAloneAndBatched) {
  torch::manual_seed(7);
  const System& s = example();
  const auto config = model::model_config("tiny");
  ModelInputOptions options = kF64Options;
  options.cutoff = config.visnet.cutoff;
  options.domains = static_cast<int>(config.pooling_domains);
  const auto n = s.atom_count();
  const auto frames = make_model_input(s, {}, options).x_given.repeat({1, 3, 1});
  model::HemePLMInput in = make_model_input(s, frames + 0.1 * torch::randn_like(frames), options);
  in.known_frames = torch::tensor({true, false, false});
  in.diffusion_step = torch::tensor({std::int64_t{40}});

  model::HemePLM net(config);
  net->to(torch::kFloat64);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x_t = in.x_given + torch::randn_like(in.x_given);
  const auto eps = net->forward(in, x_t);
  ASSERT_EQ(eps.sizes(), (std::vector<std::int64_t>{n, 2, 3}));
  EXPECT_TRUE(torch::isfinite(eps).all().item<bool>());

  // Two copies batched (the second at another diffusion step) give each copy's own prediction.
  model::HemePLMInput other = in;
  other.diffusion_step = torch::tensor({std::int64_t{5}});
  const auto x_other = in.x_given + torch::randn_like(in.x_given);
  const auto eps_other = net->forward(other, x_other);
  const auto batched = net->forward(model::concatenate_inputs({in, other}), torch::cat({x_t, x_other}));
  ASSERT_EQ(batched.sizes(), (std::vector<std::int64_t>{2 * n, 2, 3}));
  EXPECT_LT((batched.slice(0, 0, n) - eps).abs().max().item<double>(), 1e-9);
  EXPECT_LT((batched.slice(0, n) - eps_other).abs().max().item<double>(), 1e-9);
}

}  // namespace
}  // namespace hemeplm::train
