#include <xmem/config.h>
#include <xmem/error.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace xmem {
namespace {

using ::testing::HasSubstr;

std::string errorOf(std::string_view json) {
  try {
    parseMemoryConfig(json, "test.json");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(Config, XmrigKeysAndOurs) {
  auto config = parseMemoryConfig(R"({"huge-pages": false, "huge-pages-jit": true, "1gb-pages": true,
      "memory-pool": 64, "numa": [0, 2], "thp": false, "lock": true, "prefault": 4, "profile": "rx/wow", "threads": 8})");
  EXPECT_FALSE(config.hugePages);
  EXPECT_TRUE(config.hugePagesJit);
  EXPECT_TRUE(config.oneGbPages);
  EXPECT_TRUE(config.memoryPool);
  EXPECT_EQ(config.memoryPoolPages, 64U);
  EXPECT_TRUE(config.numa);
  EXPECT_EQ(config.numaNodes, (std::vector<std::uint32_t>{0, 2}));
  EXPECT_FALSE(config.transparentHugePages);
  EXPECT_TRUE(config.lock);
  EXPECT_EQ(config.prefaultThreads, 4U);
  EXPECT_EQ(config.profile, "rx/wow");
  EXPECT_EQ(config.threads, 8U);

  auto booleans = parseMemoryConfig(R"({"memory-pool": true, "numa": false, "prefault": false})");
  EXPECT_TRUE(booleans.memoryPool);
  EXPECT_EQ(booleans.memoryPoolPages, 0U);
  EXPECT_FALSE(booleans.numa);
  EXPECT_FALSE(booleans.prefault);
  EXPECT_EQ(parseMemoryConfig("{}").profile, "rx/0") << "defaults";
}

TEST(Config, BadInputNamesTheKeyAndWhatWasExpected) {
  EXPECT_THAT(errorOf(R"({"hugepages": true})"), HasSubstr("test.json: unknown key \"hugepages\": expected one of huge-pages"));
  EXPECT_THAT(errorOf(R"({"huge-pages": 1})"), HasSubstr("\"huge-pages\" is 1: expected true or false"));
  EXPECT_THAT(errorOf(R"({"numa": []})"), HasSubstr("\"numa\" is []: expected true, false, or a non-empty list"));
  EXPECT_THAT(errorOf(R"({"numa": ["a"]})"), HasSubstr("\"numa\" is \"a\""));
  EXPECT_THAT(errorOf(R"({"memory-pool": -3})"), HasSubstr("\"memory-pool\" is -3: expected a whole number"));
  EXPECT_THAT(errorOf(R"({"profile": "rx/9"})"), HasSubstr("\"profile\" is \"rx/9\": expected one of rx/0"));
  EXPECT_THAT(errorOf(R"({"threads": 0})"), HasSubstr("\"threads\" is 0"));
  EXPECT_THAT(errorOf(R"([1, 2])"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(errorOf(R"({"threads": )"), HasSubstr("test.json: not valid JSON"));
  EXPECT_THAT([] {
    try {
      loadMemoryConfig("/nonexistent/xmem.json");
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  }(), HasSubstr("cannot read the config file /nonexistent/xmem.json"));
}

TEST(Config, EnvironmentUsesTheSameTable) {
  ::setenv("XMEM_HUGE_PAGES", "0", 1);
  ::setenv("XMEM_NUMA", "1,3", 1);
  ::setenv("XMEM_PROFILE", "cn/0", 1);
  MemoryConfig config;
  applyEnvironment(config);
  EXPECT_FALSE(config.hugePages);
  EXPECT_EQ(config.numaNodes, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(config.profile, "cn/0");
  ::setenv("XMEM_THREADS", "lots", 1);
  EXPECT_THROW(applyEnvironment(config), Error) << "XMEM_THREADS=lots is not a number";
  for (const char* name : {"XMEM_HUGE_PAGES", "XMEM_NUMA", "XMEM_PROFILE", "XMEM_THREADS"}) ::unsetenv(name);
  EXPECT_EQ(memoryConfigKeys().size(), 10U);
}

}  // namespace
}  // namespace xmem
