// Reading precomputed per-residue embeddings (docs/residue-embeddings.md): HDF5 with /embeddings,
// /chain, /residue_number and optional /insertion_code, or a .npy matrix with a <stem>.keys.csv sidecar.
#include "hemeplm/parallel_io/residue_embeddings.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "hdf5_handles.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::parallel_io {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// An insertion-code string of a key table: "" or " " = none, otherwise one character.
char insertion_of(const std::string& text, const std::string& file, const std::string& record) {
  const std::string code = trim(text);
  if (code.empty()) return ' ';
  if (code.size() != 1)
    throw InputError(file, record, "insertion code '" + code + "' is not a single character");
  return code[0];
}

/// Everything a reader found, before the checks common to both formats.
struct RawTable {
  std::vector<ResidueKey> keys;
  std::vector<double> values;  ///< keys.size() x width, row-major (float64 keeps f8 input exact to the check)
  std::int64_t rows = 0, width = 0;
};

// ----- HDF5 -----

/// A 1-D string dataset. Fixed-length strings are read in their stored type: converting h5py's
/// NULLPAD strings to C's NULLTERM ones would cut the last character of a full-width string.
std::vector<std::string> read_key_strings(hid_t file, const std::string& path) {
  const h5::Dataset set = h5::open_dataset(file, path);
  const h5::Type type(H5Dget_type(set.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0)
    return h5::read_strings(file, path);
  const std::vector<hsize_t> dims = h5::dims_of(set.get());
  if (dims.size() != 1) throw h5::Failure(path, "is not a 1-D string array");
  const std::size_t width = H5Tget_size(type.get());
  std::vector<char> data(dims[0] * width + 1, '\0');
  if (dims[0] > 0 && H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw h5::Failure(path, "cannot read strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < dims[0]; ++i) {
    std::string text(data.data() + i * width, width);
    text.erase(std::min(text.size(), text.find('\0')));
    out.push_back(text);
  }
  return out;
}

RawTable read_hdf5(const std::string& path) {
  h5::silence_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path, "not an HDF5 file (or its header is damaged)");
  const h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw InputError(path, "cannot open the HDF5 file");
  RawTable t;
  try {
    std::vector<hsize_t> dims;
    t.values = h5::read_all<double>(file.get(), "/embeddings", &dims);
    if (dims.size() != 2)
      throw InputError(
          path, "/embeddings",
          "must be a 2-D [residues, width] array, it has " + std::to_string(dims.size()) + " dimension(s)");
    t.rows = static_cast<std::int64_t>(dims[0]);
    t.width = static_cast<std::int64_t>(dims[1]);
    const std::vector<std::string> chains = read_key_strings(file.get(), "/chain");
    std::vector<hsize_t> number_dims;
    const std::vector<std::int64_t> numbers =
        h5::read_all<std::int64_t>(file.get(), "/residue_number", &number_dims);
    if (number_dims.size() != 1) throw InputError(path, "/residue_number", "must be a 1-D integer array");
    std::vector<std::string> insertions;
    if (h5::exists(file.get(), "/insertion_code"))
      insertions = read_key_strings(file.get(), "/insertion_code");
    const auto check_length = [&](std::size_t size, const char* name) {
      if (static_cast<std::int64_t>(size) != t.rows)
        throw InputError(path, name,
                         "has " + std::to_string(size) + " entries but /embeddings has " +
                             std::to_string(t.rows) + " rows");
    };
    check_length(chains.size(), "/chain");
    check_length(numbers.size(), "/residue_number");
    if (!insertions.empty() || h5::exists(file.get(), "/insertion_code"))
      check_length(insertions.size(), "/insertion_code");
    for (std::int64_t r = 0; r < t.rows; ++r) {
      const auto i = static_cast<std::size_t>(r);
      if (numbers[i] < std::numeric_limits<int>::min() || numbers[i] > std::numeric_limits<int>::max())
        throw InputError(path, "/residue_number", "row " + std::to_string(r) + ": out of range");
      t.keys.push_back(
          ResidueKey{trim(chains[i]), static_cast<int>(numbers[i]),
                     insertions.empty()
                         ? ' '
                         : insertion_of(insertions[i], path, "/insertion_code row " + std::to_string(r))});
    }
  } catch (const h5::Failure& failure) {
    throw InputError(path, failure.where(), failure.what());
  }
  return t;
}

// ----- NPY -----

/// The value of `key` in a .npy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"),
/// as the raw text up to the next top-level comma or closing brace.
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  auto at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  if (at == std::string::npos) throw InputError(path, "NPY header", "has no '" + key + "' entry");
  at = header.find(':', at);
  if (at == std::string::npos) throw InputError(path, "NPY header", "malformed '" + key + "' entry");
  ++at;
  int depth = 0;
  std::size_t end = at;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth <= 0 && (c == ',' || c == '}')) break;
  }
  if (depth != 0) throw InputError(path, "NPY header", "malformed '" + key + "' entry");
  return trim(header.substr(at, end - at));
}

std::vector<std::int64_t> parse_shape(std::string text, const std::string& path) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    throw InputError(path, "NPY header", "shape '" + text + "' is not a tuple");
  text = text.substr(1, text.size() - 2);
  std::vector<std::int64_t> shape;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    std::size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 0)
      throw InputError(path, "NPY header", "shape entry '" + item + "' is not a size");
    shape.push_back(value);
  }
  return shape;
}

RawTable read_npy_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the file");
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw InputError(path, "not an NPY file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  if (major < 1 || major > 3)
    throw InputError(path, "NPY format version " + std::to_string(major) + " (expected 1, 2 or 3)");
  std::uint32_t header_length = 0;
  unsigned char length_bytes[4] = {};
  in.read(reinterpret_cast<char*>(length_bytes), major == 1 ? 2 : 4);
  if (!in) throw InputError(path, "truncated NPY header");
  for (int i = major == 1 ? 1 : 3; i >= 0; --i) header_length = header_length * 256 + length_bytes[i];
  std::string header(header_length, '\0');
  in.read(header.data(), header_length);
  if (!in) throw InputError(path, "truncated NPY header");

  const std::string descr = header_value(header, "descr", path);
  std::size_t item = 0;
  if (descr == "'<f4'" || descr == "\"<f4\"") item = 4;
  if (descr == "'<f8'" || descr == "\"<f8\"") item = 8;
  if (item == 0)
    throw InputError(
        path, "NPY header",
        "dtype " + descr + " is not supported (expected little-endian float32 '<f4' or float64 '<f8')");
  if (header_value(header, "fortran_order", path) != "False")
    throw InputError(path, "NPY header", "Fortran-ordered arrays are not supported (save a C-ordered array)");
  const std::vector<std::int64_t> shape = parse_shape(header_value(header, "shape", path), path);
  if (shape.size() != 2)
    throw InputError(
        path, "NPY header",
        "the array must be 2-D [residues, width], it has " + std::to_string(shape.size()) + " dimension(s)");

  RawTable t;
  t.rows = shape[0];
  t.width = shape[1];
  const auto count = static_cast<std::size_t>(t.rows * t.width);
  std::vector<char> bytes(count * item);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in)
    throw InputError(path, "truncated: the header promises " + std::to_string(t.rows) + " x " +
                               std::to_string(t.width) + " values");
  in.peek();
  if (!in.eof())
    throw InputError(
        path, "has data after the " + std::to_string(t.rows) + " x " + std::to_string(t.width) + " array");
  // NPY data is little-endian ('<'), which is what every supported host is.
  t.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (item == 4) {
      float v = 0;
      std::memcpy(&v, bytes.data() + i * 4, 4);
      t.values[i] = v;
    } else {
      std::memcpy(&t.values[i], bytes.data() + i * 8, 8);
    }
  }
  return t;
}

/// <dir>/<stem>.keys.csv for <dir>/<stem>.npy.
std::string keys_path_of(const std::string& npy_path) {
  std::filesystem::path p(npy_path);
  return (p.parent_path() / (p.stem().string() + ".keys.csv")).string();
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(trim(field));
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::vector<ResidueKey> read_keys_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, "cannot open the keys file (an .npy table needs <stem>.keys.csv beside it)");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path, "empty keys file (expected a header line)");
  const std::vector<std::string> header = split_csv(trim(line));
  const bool with_insertion = header.size() == 3 && header[2] == "insertion_code";
  if (header.size() < 2 || header[0] != "chain" || header[1] != "residue_number" ||
      (header.size() == 3 && !with_insertion) || header.size() > 3)
    throw InputError(path, "line 1",
                     "header '" + trim(line) + "' is not 'chain,residue_number[,insertion_code]'");
  std::vector<ResidueKey> keys;
  for (int number = 2; std::getline(in, line); ++number) {
    if (trim(line).empty()) continue;
    const std::string record = "line " + std::to_string(number);
    const std::vector<std::string> fields = split_csv(line);
    if (fields.size() != header.size())
      throw InputError(
          path, record,
          std::to_string(fields.size()) + " fields, the header has " + std::to_string(header.size()));
    ResidueKey key;
    key.chain = fields[0];
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(fields[1], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (fields[1].empty() || used != fields[1].size() || value < std::numeric_limits<int>::min() ||
        value > std::numeric_limits<int>::max())
      throw InputError(path, record, "residue number '" + fields[1] + "' is not an integer");
    key.number = static_cast<int>(value);
    if (with_insertion) key.insertion = insertion_of(fields[2], path, record);
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

std::string ResidueKey::to_string() const {
  std::string text = chain + ":" + std::to_string(number);
  if (insertion != ' ') text += insertion;
  return text;
}

std::shared_ptr<const ResidueEmbeddingTable> ResidueEmbeddingTable::read(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "residue-embedding file not found");
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path, "is a folder, not a residue-embedding file");
  const std::string extension = lower(std::filesystem::path(path).extension().string());
  RawTable raw;
  std::string keys_file = path;  // where key errors are reported
  if (extension == ".h5" || extension == ".hdf5") {
    raw = read_hdf5(path);
  } else if (extension == ".npy") {
    raw = read_npy_matrix(path);
    keys_file = keys_path_of(path);
    raw.keys = read_keys_csv(keys_file);
    if (static_cast<std::int64_t>(raw.keys.size()) != raw.rows)
      throw InputError(keys_file, "has " + std::to_string(raw.keys.size()) + " keys but " + path + " has " +
                                      std::to_string(raw.rows) + " rows");
  } else {
    throw InputError(path, "unknown residue-embedding format '" + extension +
                               "' (expected .h5/.hdf5 or .npy with a .keys.csv sidecar)");
  }
  if (raw.width < 1) throw InputError(path, "the embeddings have width 0 (no columns)");
  if (raw.rows < 1) throw InputError(path, "holds no residues");

  // Private constructor: std::make_shared cannot reach it.
  auto table = std::make_shared<ResidueEmbeddingTable>(Token{});
  table->path_ = path;
  table->width_ = raw.width;
  table->values_.resize(raw.values.size());
  for (std::size_t i = 0; i < raw.values.size(); ++i) {
    const double v = raw.values[i];
    if (!std::isfinite(v) || std::abs(v) > std::numeric_limits<float>::max()) {
      const auto row = static_cast<std::int64_t>(i) / raw.width;
      throw InputError(
          path,
          "row " + std::to_string(row) + " (" + raw.keys[static_cast<std::size_t>(row)].to_string() + ")",
          "non-finite value (or one too large for float32) in column " +
              std::to_string(static_cast<std::int64_t>(i) % raw.width));
    }
    table->values_[i] = static_cast<float>(v);
  }
  for (std::int64_t r = 0; r < raw.rows; ++r) {
    const ResidueKey& key = raw.keys[static_cast<std::size_t>(r)];
    const auto [it, inserted] = table->rows_.emplace(key, r);
    if (!inserted)
      throw InputError(
          keys_file, "row " + std::to_string(r),
          "duplicate residue key " + key.to_string() + " (also row " + std::to_string(it->second) + ")");
  }
  return table;
}

Span<const float> ResidueEmbeddingTable::find(const ResidueKey& key) const {
  const auto it = rows_.find(key);
  if (it == rows_.end()) return {};
  return Span<const float>(values_.data() + it->second * width_, static_cast<std::size_t>(width_));
}

}  // namespace hemeplm::parallel_io
