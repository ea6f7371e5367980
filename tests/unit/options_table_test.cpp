// The options table: every key has its variable and flags made from it, and the README's tables
// of variables are the tables in src/options, so neither can drift from the other.
#include "support/test_platform.h"

#include <xmem/config.h>
#include <xmem/environment.h>
#include <xmem/error.h>
#include <xmem/preload_policy.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <regex>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace xmem {
namespace {

using ::testing::HasSubstr;

std::string code(std::string_view text) { return text.empty() ? "" : "`" + std::string(text) + "`"; }

TEST(OptionsTable, EveryKeyHasAVariableAndAFlagMadeFromIt) {
  std::set<std::string_view> flags, variables;
  for (const auto& key : memoryConfigKeys()) {
    std::string variable = "XMEM_";
    for (const char c : key.key) variable += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(key.environment, variable);
    EXPECT_EQ(key.flag, "--" + std::string(key.key));
    EXPECT_FALSE(key.help.empty()) << key.key;
    EXPECT_FALSE(key.takes.empty()) << key.key;
    // A --no-KEY exactly where false is one of the values the key takes.
    const bool takesFalse = std::string_view(key.takes).find("false") != std::string_view::npos;
    EXPECT_EQ(key.negation.empty(), !takesFalse) << key.key;
    if (!key.negation.empty()) {
      EXPECT_EQ(key.negation, "--no-" + std::string(key.key));
    }
    EXPECT_TRUE(flags.insert(key.flag).second) << key.flag;
    EXPECT_TRUE(variables.insert(key.environment).second) << key.environment;
  }
}

TEST(OptionsTable, AFlagsTextReadsAsItsVariablesDoes) {
  MemoryConfig config;
  applyOptionText(config, "threads", "1", "--threads");
  applyOptionText(config, "lock", "1", "--lock");
  applyOptionText(config, "numa", "0,2", "--numa");
  applyOptionText(config, "huge-pages", "false", "--no-huge-pages");
  EXPECT_EQ(config.threads, 1U);
  EXPECT_TRUE(config.lock);
  EXPECT_EQ(config.numaNodes, (std::vector<std::uint32_t>{0, 2}));
  EXPECT_FALSE(config.hugePages);
}

TEST(OptionsTable, WithoutAnOriginTheMessageIsTheValueAndWhatTheKeyTakes) {
  MemoryConfig config;
  try {
    applyOptionText(config, "threads", "0", "");
    FAIL() << "0 threads";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "0: expected a number of threads from 1 to 4096");
  }
  EXPECT_THROW(applyOptionText(config, "hugepages", "1", ""), Error) << "not a key";
}

TEST(OptionsTable, EveryPreloadVariableHasAnOptionOfXmemRun) {
  std::set<std::string_view> flags;
  for (const auto& variable : preloadVariables()) {
    EXPECT_THAT(variable.name, ::testing::StartsWith("XMEM_PRELOAD_"));
    ASSERT_NE(variable.flag, nullptr);
    EXPECT_THAT(variable.flag, ::testing::StartsWith("--"));
    EXPECT_TRUE(flags.insert(variable.flag).second) << variable.flag;
    EXPECT_NE(std::string_view(variable.meaning), "");
    EXPECT_NE(std::string_view(variable.defaultValue), "");
  }
}

// The lines of the README's table whose header row is `header`, header and rule included, unindented.
std::string readmeTable(std::string_view header) {
  std::ifstream file(XMEM_SOURCE_DIR "/README.md");
  std::string line, table;
  bool in = false;
  while (std::getline(file, line)) {
    line.erase(0, line.find_first_not_of(' '));  // a table inside a list item is indented
    if (line == header) in = true;
    if (in && line.rfind('|', 0) != 0) break;
    if (in) table += line + "\n";
  }
  return table;
}

TEST(OptionsTable, TheReadmesPreloadTableIsTheList) {
  const std::string header = "| `xmem run` option | variable | values | meaning (default) |";
  std::string expected = header + "\n|---|---|---|---|\n";
  for (const auto& variable : preloadVariables())
    expected += "| " + code(variable.flag) + " | " + code(variable.name) + " | " + variable.values + " | " + variable.meaning +
                " (" + variable.defaultValue + ") |\n";
  EXPECT_EQ(readmeTable(header), expected) << "README.md should hold:\n" << expected;
}

TEST(OptionsTable, TheReadmesOptionsTableIsTheTable) {
  const std::string header = "| key | flags | variable | XMRig's key | values | commands |";
  std::string expected = header + "\n|---|---|---|---|---|---|\n";
  for (const auto& key : memoryConfigKeys()) {
    std::string flags = code(key.flag);
    if (!key.shortFlag.empty()) flags += ", " + code(key.shortFlag);
    if (!key.negation.empty()) flags += ", " + code(key.negation);
    expected += "| " + code(key.key) + " | " + flags + " | " + code(key.environment) + " | " + code(key.xmrigKey) + " | " +
                std::string(key.takes) + " | " + (key.use == OptionUse::Plan ? "plan, reserve --profile, alloc" : "alloc") + " |\n";
  }
  EXPECT_EQ(readmeTable(header), expected) << "README.md should hold:\n" << expected;
}

TEST(OptionsTable, TheReadmesPlacesTableIsTheList) {
  if (xmem::testing::genericPosixInstalled()) GTEST_SKIP() << "NOT RUN on the generic POSIX platform: README.md gives Linux's places";
  const std::string header = "| variable | option | values | meaning (default) |";
  std::string expected = header + "\n|---|---|---|---|\n";
  for (const auto& variable : placeVariables())
    expected += "| " + code(variable.name) + " | " + code(variable.flag) + " | " + std::string(variable.values) + " | " +
                std::string(variable.meaning) + " |\n";
  EXPECT_EQ(readmeTable(header), expected) << "README.md should hold:\n" << expected;
}

TEST(OptionsTable, EveryVariableTheSourcesNameIsInTheTable) {
  std::set<std::string, std::less<>> known;
  for (const auto& variable : environmentVariables())
    EXPECT_TRUE(known.insert(std::string(variable.name)).second) << variable.name << " twice";
  // A string literal "XMEM_..." in the library or the command is a variable someone reads.
  const std::regex literal("\"(XMEM_[A-Z0-9_]+)\"");
  for (const char* folder : {"src", "tools", "include", "bench"}) {
    const std::filesystem::path root = std::filesystem::path(XMEM_SOURCE_DIR) / folder;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& file : std::filesystem::recursive_directory_iterator(root)) {
      const auto extension = file.path().extension();
      if (extension != ".cpp" && extension != ".h") continue;
      std::ifstream in(file.path());
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it)
        EXPECT_TRUE(known.contains((*it)[1].str())) << (*it)[1] << " in " << file.path() << " is not in the options table";
    }
  }
}

}  // namespace
}  // namespace xmem
