#include "hemeplm/core/library_versions.hpp"

#include <GraphMol/RDKitBase.h>
#include <RDGeneral/versions.h>

#include <gemmi/version.hpp>

namespace hemeplm {

std::string gemmi_version() {
  return GEMMI_VERSION;
}
std::string rdkit_version() {
  return RDKit::rdkitVersion;
}

}  // namespace hemeplm
