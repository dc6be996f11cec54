#include <gtest/gtest.h>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

TEST(Cli, BinaryRuns) {
  const auto r = run_command({hemeplm_binary()});
  EXPECT_GE(r.exit_status, 0);
}

}  // namespace
}  // namespace hemeplm::test
