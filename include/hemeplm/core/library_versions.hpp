// Versions of the libraries the core layer reads files with, for `hemeplm --version` and provenance.
#pragma once

#include <string>

namespace hemeplm {

std::string gemmi_version();
std::string rdkit_version();

}  // namespace hemeplm
