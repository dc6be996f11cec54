#include "hemeplm/core/error.hpp"

#include <gtest/gtest.h>

namespace hemeplm {
namespace {

TEST(Error, InputErrorNamesFileRecordAndProblemOnOneLine) {
  const InputError e("x.pdb", line_record(12), "coordinate 'abc'\nis not a number");
  EXPECT_STREQ(e.what(), "x.pdb: line 12: coordinate 'abc' is not a number");
  EXPECT_EQ(e.exit_status(), 2);
  EXPECT_EQ(e.file(), "x.pdb");
}

TEST(Error, InputErrorWithoutRecord) {
  const InputError e("empty.sdf", "file is empty");
  EXPECT_STREQ(e.what(), "empty.sdf: file is empty");
}

TEST(Error, UsageErrorExitsWithTwo) {
  EXPECT_EQ(UsageError("--ranks must be >= 1").exit_status(), 2);
}

}  // namespace
}  // namespace hemeplm
