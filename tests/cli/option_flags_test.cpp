// The commands' flags come from the options table: each key's flags read as its variable does,
// switches take both names, and xmem run has an option for every XMEM_PRELOAD_* variable.
#include "alloc_command.h"
#include "option_flags.h"
#include "run_command.h"

#include <xmem/config.h>
#include <xmem/preload_policy.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace xmem::cli {
namespace {

using ::testing::HasSubstr;

// Every field of a config, to compare two.
std::string describe(const MemoryConfig& c) {
  return fmt::format("{} {} {} {} {} {} [{}] {} {} {} {} {} {} {} {}", c.hugePages, c.hugePagesJit, c.oneGbPages, c.memoryPool,
                     c.memoryPoolPages, c.numa, fmt::join(c.numaNodes, ","), c.transparentHugePages, c.lock,
                     c.prefaultThreads, c.prefault, c.profile, c.threads, static_cast<int>(c.randomxMode),
                     c.scratchpadPrefetchMode);
}

// The command line `words` through the table's flags, applied over a default config.
MemoryConfig parsed(std::vector<std::string> words) {
  CLI::App app;
  OptionFlags flags;
  flags.add(app, OptionUse::Allocation);
  words.insert(words.begin(), "xmem");
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  MemoryConfig config;
  flags.apply(config);
  return config;
}

// What the key's variable would make of `text`.
MemoryConfig fromVariable(std::string_view key, const std::string& text) {
  MemoryConfig config;
  applyOptionText(config, key, text, "XMEM_TEST");
  return config;
}

// A value each key that takes one accepts, other than its default.
const std::map<std::string, std::string, std::less<>> kSamples = {
    {"memory-pool", "8"}, {"numa", "0,1"}, {"prefault", "2"}, {"profile", "cn/0"},
    {"threads", "3"},     {"randomx-mode", "light"}, {"scratchpad-prefetch-mode", "2"}};

TEST(OptionFlags, EveryKeysFlagsReadAsItsVariableDoes) {
  for (const auto& key : memoryConfigKeys()) {
    SCOPED_TRACE(std::string(key.key));
    if (key.flagTakesValue) {
      const auto sample = kSamples.find(key.key);
      ASSERT_NE(sample, kSamples.end()) << "give the test a value for it";
      EXPECT_EQ(describe(parsed({std::string(key.flag), sample->second})), describe(fromVariable(key.key, sample->second)));
      if (!key.shortFlag.empty()) {
        EXPECT_EQ(describe(parsed({std::string(key.shortFlag), sample->second})), describe(fromVariable(key.key, sample->second)));
      }
    } else {
      EXPECT_EQ(describe(parsed({std::string(key.flag)})), describe(fromVariable(key.key, "true")));
    }
    if (!key.negation.empty()) {
      EXPECT_EQ(describe(parsed({std::string(key.negation)})), describe(fromVariable(key.key, "false")));
    }
  }
}

TEST(OptionFlags, TheLastOfASwitchsNamesWins) {
  EXPECT_TRUE(parsed({"--no-huge-pages", "--huge-pages"}).hugePages);
  EXPECT_FALSE(parsed({"--huge-pages", "--no-huge-pages"}).hugePages);
  EXPECT_FALSE(parsed({"--no-1gb-pages"}).oneGbPages);
  EXPECT_TRUE(parsed({"--huge-pages=2048"}).hugePages) << "XMRig's page size in KB, as in the file";
}

TEST(OptionFlags, AValueAndItsNegationExcludeEachOther) {
  EXPECT_THROW(parsed({"--prefault", "2", "--no-prefault"}), CLI::ParseError);
  EXPECT_FALSE(parsed({"--no-prefault"}).prefault);
}

TEST(OptionFlags, ABadValueNamesTheFlagTheValueAndWhatItTakes) {
  try {
    parsed({"--numa", "0,x"});
    FAIL() << "0,x is no list of nodes";
  } catch (const CLI::ValidationError& error) {
    EXPECT_THAT(error.what(), HasSubstr("--numa: \"0,x\": expected true, false, or a list of node numbers"));
  }
  EXPECT_THROW(parsed({"--threads", "0"}), CLI::ValidationError);
  EXPECT_THROW(parsed({"--huge-pages=maybe"}), CLI::ValidationError);
}

TEST(OptionFlags, XmemRunHasAnOptionForEveryPreloadVariable) {
  CLI::App app;
  addRunCommand(app);
  auto* run = app.get_subcommand("run");
  for (const auto& variable : preloadVariables()) {
    const auto* option = run->get_option_no_throw(variable.flag);
    ASSERT_NE(option, nullptr) << variable.flag;
    EXPECT_THAT(option->get_description(), HasSubstr(std::string("[") + variable.name + "]"));
  }
}

// A bug: `xmem alloc --prefault 2` (and XMEM_PREFAULT=2, "prefault": 2) faulted in with every core.
TEST(OptionFlags, AllocPrefaultsWithTheThreadsAskedFor) {
  MemoryConfig config;
  EXPECT_EQ(allocationOptions(config).prefaultThreads, VirtualMemory::kAllCores) << "true: every core";
  applyOptionText(config, "prefault", "2", "--prefault");
  EXPECT_EQ(allocationOptions(config).prefaultThreads, 2U);
  applyOptionText(config, "prefault", "false", "--no-prefault");
  EXPECT_EQ(allocationOptions(config).prefaultThreads, 0U);
}

}  // namespace
}  // namespace xmem::cli
