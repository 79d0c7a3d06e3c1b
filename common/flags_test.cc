#include "common/flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_listen, "127.0.0.1:1", "for the test");
ABSL_FLAG(int, test_pool, 4, "for the test");

namespace linli {
namespace {

TEST(FlagsTest, EnvironmentOverridesDefaultAndCommandLineOverridesEnvironment) {
  EXPECT_EQ(FlagEnvName("test_listen"), "LINLI_TEST_LISTEN");
  setenv("LINLI_TEST_LISTEN", "0.0.0.0:9", 1);
  setenv("LINLI_TEST_POOL", "16", 1);
  std::string arg0 = "prog", arg1 = "--test_pool=32", arg2 = "positional";
  char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
  std::vector<char*> rest = ParseFlags(3, argv, "test");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_listen), "0.0.0.0:9");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_pool), 32);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_STREQ(rest[1], "positional");
  unsetenv("LINLI_TEST_LISTEN");
  unsetenv("LINLI_TEST_POOL");
}

TEST(FlagsDeathTest, MalformedEnvironmentValueStopsTheProcess) {
  EXPECT_EXIT(
      {
        setenv("LINLI_TEST_POOL", "many", 1);
        std::string arg0 = "prog";
        char* argv[] = {arg0.data()};
        ParseFlags(1, argv, "test");
      },
      ::testing::ExitedWithCode(2), "LINLI_TEST_POOL");
}

}  // namespace
}  // namespace linli
