// Periodic-table constants and the PDB rules for inferring an element from an atom name.
#include "hemeplm/core/elements.hpp"

#include <array>
#include <cctype>
#include <string>

namespace hemeplm {
namespace {

struct ElementData {
  const char* symbol;
  double mass;    // standard atomic weight (IUPAC, abridged); mass number of the longest-lived isotope
  double radius;  // Cordero et al. 2008 single-bond covalent radius; 0 where none was published
};

// Index = Z; entry 0 is the unknown element.
constexpr std::array<ElementData, 119> kElements = {{
    {"X", 0.0, 0.0},      {"H", 1.008, 0.31},   {"He", 4.0026, 0.28}, {"Li", 6.94, 1.28},
    {"Be", 9.0122, 0.96}, {"B", 10.81, 0.84},   {"C", 12.011, 0.76},  {"N", 14.007, 0.71},
    {"O", 15.999, 0.66},  {"F", 18.998, 0.57},  {"Ne", 20.180, 0.58}, {"Na", 22.990, 1.66},
    {"Mg", 24.305, 1.41}, {"Al", 26.982, 1.21}, {"Si", 28.085, 1.11}, {"P", 30.974, 1.07},
    {"S", 32.06, 1.05},   {"Cl", 35.45, 1.02},  {"Ar", 39.948, 1.06}, {"K", 39.098, 2.03},
    {"Ca", 40.078, 1.76}, {"Sc", 44.956, 1.70}, {"Ti", 47.867, 1.60}, {"V", 50.942, 1.53},
    {"Cr", 51.996, 1.39}, {"Mn", 54.938, 1.39}, {"Fe", 55.845, 1.32}, {"Co", 58.933, 1.26},
    {"Ni", 58.693, 1.24}, {"Cu", 63.546, 1.32}, {"Zn", 65.38, 1.22},  {"Ga", 69.723, 1.22},
    {"Ge", 72.630, 1.20}, {"As", 74.922, 1.19}, {"Se", 78.971, 1.20}, {"Br", 79.904, 1.20},
    {"Kr", 83.798, 1.16}, {"Rb", 85.468, 2.20}, {"Sr", 87.62, 1.95},  {"Y", 88.906, 1.90},
    {"Zr", 91.224, 1.75}, {"Nb", 92.906, 1.64}, {"Mo", 95.95, 1.54},  {"Tc", 97.907, 1.47},
    {"Ru", 101.07, 1.46}, {"Rh", 102.91, 1.42}, {"Pd", 106.42, 1.39}, {"Ag", 107.87, 1.45},
    {"Cd", 112.41, 1.44}, {"In", 114.82, 1.42}, {"Sn", 118.71, 1.39}, {"Sb", 121.76, 1.39},
    {"Te", 127.60, 1.38}, {"I", 126.90, 1.39},  {"Xe", 131.29, 1.40}, {"Cs", 132.91, 2.44},
    {"Ba", 137.33, 2.15}, {"La", 138.91, 2.07}, {"Ce", 140.12, 2.04}, {"Pr", 140.91, 2.03},
    {"Nd", 144.24, 2.01}, {"Pm", 144.91, 1.99}, {"Sm", 150.36, 1.98}, {"Eu", 151.96, 1.98},
    {"Gd", 157.25, 1.96}, {"Tb", 158.93, 1.94}, {"Dy", 162.50, 1.92}, {"Ho", 164.93, 1.92},
    {"Er", 167.26, 1.89}, {"Tm", 168.93, 1.90}, {"Yb", 173.05, 1.87}, {"Lu", 174.97, 1.87},
    {"Hf", 178.49, 1.75}, {"Ta", 180.95, 1.70}, {"W", 183.84, 1.62},  {"Re", 186.21, 1.51},
    {"Os", 190.23, 1.44}, {"Ir", 192.22, 1.41}, {"Pt", 195.08, 1.36}, {"Au", 196.97, 1.36},
    {"Hg", 200.59, 1.32}, {"Tl", 204.38, 1.45}, {"Pb", 207.2, 1.46},  {"Bi", 208.98, 1.48},
    {"Po", 208.98, 1.40}, {"At", 209.99, 1.50}, {"Rn", 222.02, 1.50}, {"Fr", 223.02, 2.60},
    {"Ra", 226.03, 2.21}, {"Ac", 227.03, 2.15}, {"Th", 232.04, 2.06}, {"Pa", 231.04, 2.00},
    {"U", 238.03, 1.96},  {"Np", 237.05, 1.90}, {"Pu", 244.06, 1.87}, {"Am", 243.06, 1.80},
    {"Cm", 247.07, 1.69}, {"Bk", 247.07, 0.0},  {"Cf", 251.08, 0.0},  {"Es", 252.08, 0.0},
    {"Fm", 257.10, 0.0},  {"Md", 258.10, 0.0},  {"No", 259.10, 0.0},  {"Lr", 266.12, 0.0},
    {"Rf", 267.12, 0.0},  {"Db", 268.13, 0.0},  {"Sg", 269.13, 0.0},  {"Bh", 270.13, 0.0},
    {"Hs", 269.13, 0.0},  {"Mt", 278.16, 0.0},  {"Ds", 281.17, 0.0},  {"Rg", 282.17, 0.0},
    {"Cn", 285.18, 0.0},  {"Nh", 286.18, 0.0},  {"Fl", 289.19, 0.0},  {"Mc", 290.20, 0.0},
    {"Lv", 293.21, 0.0},  {"Ts", 294.21, 0.0},  {"Og", 294.21, 0.0},
}};

constexpr double kDefaultCovalentRadius = 1.5;

char upper(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}
bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

int single_letter_element(char c) {
  const char symbol[2] = {upper(c), '\0'};
  return atomic_number(std::string_view(symbol, 1));
}

int two_letter_element(char first, char second) {
  const char symbol[2] = {first, second};
  return atomic_number(std::string_view(symbol, 2));
}

// Two-letter elements whose symbol is unlikely to be the start of an organic atom name ("CL1", "BR",
// "FE"); used only for trimmed non-polymer names, where column alignment is lost.
bool is_distinctive_two_letter(int z) {
  switch (z) {
    case 17:
    case 35:
    case 26:
    case 30:
    case 12:
    case 25:
    case 29:
    case 34:
    case 14:
    case 3:  // NOLINT
    case 13:
    case 28:
    case 48:
    case 80:
    case 55:
    case 37:
    case 38:
    case 56:  // NOLINT
      return true;
    default:
      return false;
  }
}

int infer_from_trimmed(std::string_view name, bool residue_is_polymer) {
  std::size_t start = 0;
  while (start < name.size() && is_digit(name[start])) ++start;  // "1HB2", "2HH3"
  name.remove_prefix(start);
  if (name.empty() || !is_alpha(name[0])) return 0;
  if (residue_is_polymer) return single_letter_element(name[0]);
  // An ion or lone atom named by its symbol ("ZN", "CL", "NA").
  if (const int whole = atomic_number(name); whole != 0) return whole;
  if (name.size() >= 2 && is_alpha(name[1])) {
    const int two = two_letter_element(upper(name[0]), static_cast<char>(std::tolower(name[1])));
    if (two != 0 && is_distinctive_two_letter(two)) return two;
  }
  return single_letter_element(name[0]);
}

}  // namespace

int atomic_number(std::string_view symbol) {
  if (symbol.empty() || symbol.size() > 2) return 0;
  for (int z = 1; z < static_cast<int>(kElements.size()); ++z) {
    const std::string_view candidate = kElements[z].symbol;
    if (candidate.size() != symbol.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < symbol.size() && same; ++i) same = upper(candidate[i]) == upper(symbol[i]);
    if (same) return z;
  }
  return 0;
}

std::string_view element_symbol(int z) {
  if (z < 1 || z >= static_cast<int>(kElements.size())) return kElements[0].symbol;
  return kElements[z].symbol;
}

double atomic_mass(int z) {
  if (z < 1 || z >= static_cast<int>(kElements.size())) return 0.0;
  return kElements[z].mass;
}

double covalent_radius(int z) {
  if (z < 1 || z >= static_cast<int>(kElements.size()) || kElements[z].radius <= 0.0) {
    return kDefaultCovalentRadius;
  }
  return kElements[z].radius;
}

bool is_metal(int z) {
  if (z == 3 || z == 4 || z == 11 || z == 12 || z == 13 || z == 19 || z == 20) return true;
  if (z >= 21 && z <= 31) return true;  // Sc..Ga
  if (z >= 37 && z <= 50) return true;  // Rb..Sn
  if (z >= 55 && z <= 84) return true;  // Cs..Po (lanthanides included)
  return z >= 87;
}

bool is_common_ion_element(int z) {
  switch (z) {
    case 3:
    case 11:
    case 19:
    case 37:
    case 55:  // alkali metals    // NOLINT
    case 12:
    case 20:
    case 38:
    case 56:  // alkaline earths  // NOLINT
    case 9:
    case 17:
    case 35:
    case 53:  // halides          // NOLINT
    case 13:
    case 24:
    case 25:
    case 26:
    case 27:
    case 28:  // Al, Cr-Ni        // NOLINT
    case 29:
    case 30:
    case 47:
    case 48:
    case 78:
    case 79:  // Cu Zn Ag Cd Pt Au // NOLINT
    case 80:
    case 81:
    case 82:
    case 23:
    case 31:
    case 49:  // Hg Tl Pb V Ga In  // NOLINT
    case 57:
    case 62:
    case 63:
    case 64:
    case 65:
    case 70:  // lanthanides      // NOLINT
      return true;
    default:
      return false;
  }
}

int infer_element_from_atom_name(std::string_view name, bool residue_is_polymer) {
  // Without the 4-column field the alignment carries no information.
  if (name.size() != 4) {
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    return infer_from_trimmed(name, residue_is_polymer);
  }
  const char c13 = name[0];
  const char c14 = name[1];
  // PDB v2 hydrogen names ("1HB2", "2HH3") and MD names such as "1C4A": the element follows the digit.
  if (is_digit(c13)) return is_alpha(c14) ? single_letter_element(c14) : 0;
  // Right-justified one-letter element in columns 13-14: " CA " is an alpha carbon.
  if (c13 == ' ') return is_alpha(c14) ? single_letter_element(c14) : 0;
  if (!is_alpha(c13)) return 0;
  // Polymer atoms never have two-letter elements; "HG21" is a hydrogen, "CA  " (misaligned) a carbon.
  if (residue_is_polymer || !is_alpha(c14)) return single_letter_element(c13);
  // Four-character hydrogen names ("HG12", "HD21"): Hg, He, Hf, Ho, Hs almost never have such names.
  if (upper(c13) == 'H' && name[3] != ' ') return 1;
  // Columns 13-14 hold a two-letter element ("CA  " is calcium, "ZN  " zinc, "CL1 " chlorine).
  if (const int two = two_letter_element(upper(c13), static_cast<char>(std::tolower(c14))); two != 0) {
    return two;
  }
  return single_letter_element(c13);
}

}  // namespace hemeplm
