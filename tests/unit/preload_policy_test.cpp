// The XMEM_PRELOAD_* variables: every value the library and `xmem run` accept, and bad ones named.
#include <xmem/preload_policy.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace xmem {
namespace {

using ::testing::ElementsAre;

PreloadPolicyParse parse(const std::map<std::string, std::string>& variables) {
  return parsePreloadPolicy([&](const char* name) -> const char* {
    auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

TEST(PreloadPolicy, DefaultsServeFrom2MiBOnTheBestPagesLocally) {
  auto parsed = parse({});
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.policy.threshold, 2 * MiB);
  EXPECT_TRUE(parsed.policy.oneGbPages && parsed.policy.hugePages && parsed.policy.transparentHugePages);
  EXPECT_EQ(parsed.policy.nodeMode, PreloadPolicy::NodeMode::Local);
  EXPECT_EQ(parsed.policy.prefaultAbove, 64 * MiB);
  EXPECT_EQ(parsed.policy.poolCapacity, 8 * MiB);
  EXPECT_FALSE(parsed.policy.reportAtExit || parsed.policy.reportOnSignal);
}

TEST(PreloadPolicy, EveryVariableIsRead) {
  auto parsed = parse({{"XMEM_PRELOAD_THRESHOLD", "4M"},
                       {"XMEM_PRELOAD_PAGES", "2m,thp"},
                       {"XMEM_PRELOAD_1GB_ABOVE", "2G"},
                       {"XMEM_PRELOAD_NODE", "3"},
                       {"XMEM_PRELOAD_LOCK", "1"},
                       {"XMEM_PRELOAD_PREFAULT_ABOVE", "never"},
                       {"XMEM_PRELOAD_POOL", "off"},
                       {"XMEM_PRELOAD_REPORT", "exit,signal"},
                       {"XMEM_PRELOAD_REPORT_SIGNAL", "USR1"},
                       {"XMEM_PRELOAD_REPORT_FILE", "/tmp/report"}});
  EXPECT_TRUE(parsed.errors.empty());
  const auto& policy = parsed.policy;
  EXPECT_EQ(policy.threshold, 4 * MiB);
  EXPECT_FALSE(policy.oneGbPages);
  EXPECT_TRUE(policy.hugePages && policy.transparentHugePages);
  EXPECT_EQ(policy.oneGbAbove, 2 * GiB);
  EXPECT_EQ(policy.nodeMode, PreloadPolicy::NodeMode::Fixed);
  EXPECT_EQ(policy.node, 3U);
  EXPECT_TRUE(policy.lock);
  EXPECT_EQ(policy.prefaultAbove, 0U);
  EXPECT_EQ(policy.poolCapacity, 0U);
  EXPECT_TRUE(policy.reportAtExit && policy.reportOnSignal);
  EXPECT_EQ(policy.reportSignal, 10);
  EXPECT_EQ(policy.reportFile, "/tmp/report");
  EXPECT_FALSE(parse({{"XMEM_PRELOAD_PAGES", "none"}}).policy.transparentHugePages);
  EXPECT_EQ(parse({{"XMEM_PRELOAD_NODE", "interleave"}}).policy.nodeMode, PreloadPolicy::NodeMode::Interleave);
}

TEST(PreloadPolicy, BadValuesAreNamedAndTheDefaultsKept) {
  auto parsed = parse({{"XMEM_PRELOAD_THRESHOLD", "big"},
                       {"XMEM_PRELOAD_PAGES", "2m,4m"},
                       {"XMEM_PRELOAD_NODE", "-1"},
                       {"XMEM_PRELOAD_LOCK", "yes"},
                       {"XMEM_PRELOAD_REPORT", "sometimes"},
                       {"XMEM_PRELOAD_REPORT_SIGNAL", "99"}});
  EXPECT_THAT(parsed.errors,
              ElementsAre("XMEM_PRELOAD_THRESHOLD='big': expected a size such as 2M, 64K or 1G",
                          "XMEM_PRELOAD_PAGES='2m,4m': expected a list of 1g, 2m and thp (e.g. 2m,thp), or none",
                          "XMEM_PRELOAD_NODE='-1': expected local, interleave, none, or a node number",
                          "XMEM_PRELOAD_LOCK='yes': expected 0 or 1",
                          "XMEM_PRELOAD_REPORT='sometimes': expected a list of exit and signal",
                          "XMEM_PRELOAD_REPORT_SIGNAL='99': expected USR1, USR2 or a signal number from 1 to 64"));
  EXPECT_EQ(parsed.policy.threshold, 2 * MiB);
  EXPECT_TRUE(parsed.policy.oneGbPages);
  EXPECT_EQ(parsed.policy.nodeMode, PreloadPolicy::NodeMode::Local);
}

TEST(PreloadPolicy, EveryVariableIsDocumented) {
  for (const char* name : {"XMEM_PRELOAD_THRESHOLD", "XMEM_PRELOAD_PAGES", "XMEM_PRELOAD_1GB_ABOVE", "XMEM_PRELOAD_NODE",
                           "XMEM_PRELOAD_LOCK", "XMEM_PRELOAD_PREFAULT_ABOVE", "XMEM_PRELOAD_POOL", "XMEM_PRELOAD_REPORT",
                           "XMEM_PRELOAD_REPORT_SIGNAL", "XMEM_PRELOAD_REPORT_FILE"}) {
    bool found = false;
    for (const auto& variable : preloadVariables()) found = found || std::string(variable.name) == name;
    EXPECT_TRUE(found) << name;
  }
}

}  // namespace
}  // namespace xmem
