// Residue bond templates, written compactly as "A-B" (single), "A=B" (double) bond lists.
#include "residue_templates.hpp"

#include <map>
#include <sstream>
#include <utility>

#include "hemeplm/core/system.hpp"

namespace hemeplm {
namespace {

constexpr const char* kBackbone = "N-CA CA-C C=O C-OXT";

// Side chains. HIS is written as HIE (ND1=CE1); the resonance groups below move that double bond.
const std::pair<const char*, const char*> kSideChains[] = {
    {"GLY", ""},
    {"ALA", "CA-CB"},
    {"SER", "CA-CB CB-OG"},
    {"CYS", "CA-CB CB-SG"},
    {"VAL", "CA-CB CB-CG1 CB-CG2"},
    {"THR", "CA-CB CB-OG1 CB-CG2"},
    {"LEU", "CA-CB CB-CG CG-CD1 CG-CD2"},
    {"ILE", "CA-CB CB-CG1 CB-CG2 CG1-CD1"},
    {"MET", "CA-CB CB-CG CG-SD SD-CE"},
    {"MSE", "CA-CB CB-CG CG-SE SE-CE"},
    {"PRO", "CA-CB CB-CG CG-CD CD-N"},
    {"PHE", "CA-CB CB-CG CG=CD1 CD1-CE1 CE1=CZ CZ-CE2 CE2=CD2 CD2-CG"},
    {"TYR", "CA-CB CB-CG CG=CD1 CD1-CE1 CE1=CZ CZ-CE2 CE2=CD2 CD2-CG CZ-OH"},
    {"TRP", "CA-CB CB-CG CG=CD1 CD1-NE1 NE1-CE2 CE2=CD2 CD2-CG CE2-CZ2 CZ2=CH2 CH2-CZ3 CZ3=CE3 CE3-CD2"},
    {"HIS", "CA-CB CB-CG CG-ND1 CG=CD2 ND1=CE1 CE1-NE2 NE2-CD2"},
    {"ASN", "CA-CB CB-CG CG=OD1 CG-ND2"},
    {"GLN", "CA-CB CB-CG CG-CD CD=OE1 CD-NE2"},
    {"ASP", "CA-CB CB-CG CG=OD1 CG-OD2"},
    {"GLU", "CA-CB CB-CG CG-CD CD=OE1 CD-OE2"},
    {"LYS", "CA-CB CB-CG CG-CD CD-CE CE-NZ"},
    {"ARG", "CA-CB CB-CG CG-CD CD-NE NE-CZ CZ-NH1 CZ=NH2"},
};

// Variant names that share a parent's heavy atoms.
const std::pair<const char*, const char*> kVariants[] = {
    {"HID", "HIS"},  {"HIE", "HIS"},  {"HIP", "HIS"},  {"HSD", "HIS"}, {"HSE", "HIS"}, {"HSP", "HIS"},
    {"HISD", "HIS"}, {"HISE", "HIS"}, {"HISH", "HIS"}, {"CYX", "CYS"}, {"CYM", "CYS"}, {"ASH", "ASP"},
    {"ASPP", "ASP"}, {"GLH", "GLU"},  {"GLUP", "GLU"}, {"LYN", "LYS"}, {"LSN", "LYS"}, {"ARN", "ARG"},
};

const std::pair<const char*, const char*> kCaps[] = {
    {"ACE", "CH3-C C=O"},
    {"NME", "N-CH3"},
    {"NMA", "N-CH3"},
    {"NH2", ""},
};

std::vector<TemplateBond> parse_bonds(const std::string& spec) {
  std::vector<TemplateBond> bonds;
  std::istringstream words(spec);
  std::string word;
  while (words >> word) {
    const std::size_t split = word.find_first_of("-=#");
    const int order = word[split] == '-' ? 1 : (word[split] == '=' ? 2 : 3);
    bonds.push_back({word.substr(0, split), word.substr(split + 1), order});
  }
  return bonds;
}

std::vector<ResonanceGroup> resonance_of(const std::string& parent, const std::string& name) {
  std::vector<ResonanceGroup> groups = {{"C", {"O", "OXT"}}};  // C-terminal carboxylate
  if (parent == "ASP") groups.push_back({"CG", {"OD1", "OD2"}});
  if (parent == "GLU") groups.push_back({"CD", {"OE1", "OE2"}});
  if (parent == "ARG") groups.push_back({"CZ", {"NH2", "NH1", "NE"}});
  if (parent == "HIS") {
    // Without hydrogens the name says where the ring H sits: HID/HSD carry it on ND1.
    const bool h_on_nd1 = name == "HID" || name == "HSD" || name == "HISD";
    groups.push_back(
        {"CE1", h_on_nd1 ? std::vector<std::string>{"NE2", "ND1"} : std::vector<std::string>{"ND1", "NE2"}});
  }
  return groups;
}

std::map<std::string, ResidueTemplate, std::less<>> build_templates() {
  std::map<std::string, ResidueTemplate, std::less<>> templates;
  std::map<std::string, std::string> side_chain;
  for (const auto& [name, spec] : kSideChains) side_chain[name] = spec;
  auto add_amino_acid = [&](const std::string& name, const std::string& parent) {
    ResidueTemplate& t = templates[name];
    t.bonds = parse_bonds(std::string(kBackbone) + " " + side_chain[parent]);
    t.resonance = resonance_of(parent, name);
  };
  for (const auto& [name, spec] : kSideChains) add_amino_acid(name, name);
  for (const auto& [name, parent] : kVariants) add_amino_acid(name, parent);
  for (const auto& [name, spec] : kCaps) templates[name].bonds = parse_bonds(spec);
  return templates;
}

}  // namespace

std::string_view standard_amino_acid(std::string_view residue_name) {
  for (const auto& [variant, parent] : kVariants) {
    if (residue_name == variant) return parent;
  }
  return residue_name == "MSE" ? "MET" : residue_name;  // selenomethionine: own template, MET's role
}

const ResidueTemplate* find_residue_template(std::string_view residue_name) {
  static const std::map<std::string, ResidueTemplate, std::less<>> templates = build_templates();
  const auto it = templates.find(residue_name);
  return it == templates.end() ? nullptr : &it->second;
}

std::string_view template_atom_name(std::string_view residue_name, std::string_view atom_name) {
  if (atom_name == "OT1" || atom_name == "OC1" || atom_name == "O1") return "O";
  if (atom_name == "OT2" || atom_name == "OC2" || atom_name == "O2") return "OXT";
  if (atom_name == "CD" && residue_name == "ILE") return "CD1";
  if ((residue_name == "NME" || residue_name == "NMA") && (atom_name == "C" || atom_name == "CA"))
    return "CH3";
  if (residue_name == "ACE" && atom_name == "CA") return "CH3";
  return atom_name;
}

}  // namespace hemeplm
