#include "hemeplm/app/cli.hpp"

namespace hemeplm::app {
int run(int, char**) { return 0; }
}  // namespace hemeplm::app
