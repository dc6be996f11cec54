// Precomputed per-residue embeddings (protein-language-model vectors such as ESM-2, computed elsewhere),
// keyed by chain id and author residue number (plus insertion code). Read from HDF5 or NPY; the layouts
// are in docs/residue-embeddings.md. Torch-free: the model-input layer turns looked-up rows into tensors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "hemeplm/core/span.hpp"

namespace hemeplm::parallel_io {

/// Key of one residue: chain id as in the structure file ("A"), author residue number, insertion code
/// (' ' when none).
struct ResidueKey {
  std::string chain;
  int number = 0;
  char insertion = ' ';
  bool operator<(const ResidueKey& other) const {
    return std::tie(chain, number, insertion) < std::tie(other.chain, other.number, other.insertion);
  }
  std::string to_string() const;  ///< "A:42" or "A:42B"
};

class ResidueEmbeddingTable {
 public:
  /// Reads `path` (.h5/.hdf5 or .npy, by extension). InputError naming the file and the problem (missing
  /// datasets, a key array whose length differs from the row count, duplicate keys, non-finite values,
  /// width 0).
  static std::shared_ptr<const ResidueEmbeddingTable> read(const std::string& path);

  const std::string& path() const { return path_; }
  std::int64_t width() const { return width_; }  ///< E
  std::int64_t size() const { return static_cast<std::int64_t>(rows_.size()); }
  /// The row of `key`, or an empty span when the table has none.
  Span<const float> find(const ResidueKey& key) const;

 private:
  /// Only read() makes tables; the tag lets it use make_shared without a public constructor.
  struct Token {};

 public:
  explicit ResidueEmbeddingTable(Token) {}

 private:
  std::string path_;
  std::int64_t width_ = 0;
  std::map<ResidueKey, std::int64_t> rows_;  ///< key -> row of values_
  std::vector<float> values_;                ///< size() x width(), row-major
};

}  // namespace hemeplm::parallel_io
