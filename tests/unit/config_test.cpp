#include <xmem/config.h>
#include <xmem/error.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>

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
  EXPECT_THAT(errorOf(R"({"huge-pages": 1})"), HasSubstr("\"huge-pages\" is 1: expected true, false or a page size in KB"));
  EXPECT_THAT(errorOf(R"({"numa": []})"), HasSubstr("\"numa\" is []: expected true, false, or a non-empty list"));
  EXPECT_THAT(errorOf(R"({"numa": ["a"]})"), HasSubstr("\"numa\" is \"a\""));
  EXPECT_THAT(errorOf(R"({"memory-pool": -3})"), HasSubstr("\"memory-pool\" is -3: expected a whole number"));
  EXPECT_THAT(errorOf(R"({"profile": "rx/9"})"), HasSubstr("\"profile\" is \"rx/9\": expected one of rx/0"));
  EXPECT_THAT(errorOf(R"({"threads": 0})"), HasSubstr("\"threads\" is 0"));
  EXPECT_THAT(errorOf(R"([1, 2])"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(errorOf(R"({"threads": )"), HasSubstr("test.json: not valid JSON"));
  // Found by tests/fuzz (config): a number past double's range threw json's out_of_range, uncaught.
  EXPECT_THAT(errorOf(R"({"threads": 1E400})"), HasSubstr("test.json: not valid JSON"));
  EXPECT_THAT([] {
    try {
      loadMemoryConfig("/nonexistent/xmem.json");
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  }(), HasSubstr("cannot read the config file /nonexistent/xmem.json"));
}

std::string loadError(const std::string& path) {
  try {
    loadMemoryConfig(path);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// Found by tests/fuzz (option_text): XMEM_PROFILE=$'false\xc4' ended xmem with std::terminate, as
// the message quoting the value threw json's type_error (invalid UTF-8).
TEST(Config, AValueThatIsNotUtf8IsRefusedByName) {
  MemoryConfig config;
  for (const char* key : {"profile", "threads", "numa", "huge-pages", "randomx-mode"}) {
    try {
      applyOptionText(config, key, "false\xc4\x06", "XMEM_TEST");
      ADD_FAILURE() << key << " took a value that is not UTF-8";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("XMEM_TEST")) << key;
    }
  }
}

// A bug: `xmem --config /dev/zero plan` read until memory ran out, and any file was read whole.
TEST(Config, AFileLargerThanAnyConfigIsRefusedUnread) {
  EXPECT_THAT(loadError("/dev/zero"), HasSubstr("the config file /dev/zero is larger than 1 MiB"));
  const std::string path = ::testing::TempDir() + "xmem-config-large.json";
  {
    std::ofstream file(path);
    file << std::string(2 * 1024 * 1024, ' ') << "{}";
  }
  EXPECT_THAT(loadError(path), HasSubstr("is larger than 1 MiB: expected a JSON file of memory options"));
  std::remove(path.c_str());
  EXPECT_THAT(loadError("/tmp"), HasSubstr("cannot read the config file /tmp"));
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
  EXPECT_EQ(memoryConfigKeys().size(), 12U);
}


// Sets variables for one test and removes them after, so no test sees another's.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> variables) {
    for (const auto& [name, value] : variables) {
      ::setenv(name, value, 1);
      names_.push_back(name);
    }
  }
  ~ScopedEnvironment() {
    for (const char* name : names_) ::unsetenv(name);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::vector<const char*> names_;
};

// What applyEnvironment says about one variable; any exception other than Error is a crash.
std::string environmentError(const char* name, const char* value) {
  ScopedEnvironment environment{{name, value}};
  MemoryConfig config;
  try {
    applyEnvironment(config);
  } catch (const Error& error) {
    return error.what();
  } catch (const std::exception& error) {
    return std::string("not an xmem::Error: ") + error.what();
  }
  return "no error";
}

TEST(ConfigEnvironment, OneAndZeroAreNumbersWhereTheKeyTakesANumber) {
  ScopedEnvironment environment{{"XMEM_THREADS", "1"}, {"XMEM_NUMA", "0"}, {"XMEM_MEMORY_POOL", "1"},
                                {"XMEM_PREFAULT", "0"}, {"XMEM_HUGE_PAGES", "0"}, {"XMEM_LOCK", "1"}};
  MemoryConfig config;
  applyEnvironment(config);
  EXPECT_EQ(config.threads, 1U);
  EXPECT_TRUE(config.numa) << "XMEM_NUMA=0 is node 0, not NUMA off";
  EXPECT_EQ(config.numaNodes, (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(config.memoryPool);
  EXPECT_EQ(config.memoryPoolPages, 1U) << "XMEM_MEMORY_POOL=1 is one 2 MiB page, not \"as many as needed\"";
  EXPECT_FALSE(config.prefault);
  EXPECT_FALSE(config.hugePages);
  EXPECT_TRUE(config.lock);
}

TEST(ConfigEnvironment, WordsAreBooleansWhereTheKeyTakesBoth) {
  ScopedEnvironment environment{{"XMEM_NUMA", "off"}, {"XMEM_MEMORY_POOL", "true"}, {"XMEM_PREFAULT", "yes"},
                                {"XMEM_THP", "no"}, {"XMEM_1GB_PAGES", "on"}};
  MemoryConfig config;
  config.numaNodes = {1};
  applyEnvironment(config);
  EXPECT_FALSE(config.numa);
  EXPECT_TRUE(config.numaNodes.empty());
  EXPECT_TRUE(config.memoryPool);
  EXPECT_EQ(config.memoryPoolPages, 0U) << "true: as many pages as the threads need";
  EXPECT_TRUE(config.prefault);
  EXPECT_EQ(config.prefaultThreads, 0U) << "yes: every core";
  EXPECT_FALSE(config.transparentHugePages);
  EXPECT_TRUE(config.oneGbPages);
}

TEST(ConfigEnvironment, BadValuesAreErrorsThatNameTheVariableTheValueAndWhatWasExpected) {
  EXPECT_THAT(environmentError("XMEM_THREADS", "99999999999999999999999"),
              HasSubstr("XMEM_THREADS: \"threads\" is 99999999999999999999999: expected a number of threads from 1 to 4096"));
  EXPECT_THAT(environmentError("XMEM_THREADS", "0"), HasSubstr("XMEM_THREADS: \"threads\" is 0: expected"));
  EXPECT_THAT(environmentError("XMEM_THREADS", "-1"), HasSubstr("XMEM_THREADS: \"threads\" is \"-1\": expected"));
  EXPECT_THAT(environmentError("XMEM_THREADS", ""), HasSubstr("XMEM_THREADS: \"threads\" is \"\": expected"));
  EXPECT_THAT(environmentError("XMEM_THREADS", "lots"), HasSubstr("XMEM_THREADS: \"threads\" is \"lots\": expected"));
  EXPECT_THAT(environmentError("XMEM_NUMA", "0,99999999999999999999999"),
              HasSubstr("XMEM_NUMA: \"numa\" is \"0,99999999999999999999999\": expected"));
  EXPECT_THAT(environmentError("XMEM_NUMA", "0,,1"), HasSubstr("XMEM_NUMA: \"numa\" is \"0,,1\": expected"));
  EXPECT_THAT(environmentError("XMEM_MEMORY_POOL", "18446744073709551616"),
              HasSubstr("XMEM_MEMORY_POOL: \"memory-pool\" is 18446744073709551616: expected"));
  EXPECT_THAT(environmentError("XMEM_PREFAULT", "4097"), HasSubstr("XMEM_PREFAULT: \"prefault\" is 4097: expected"));
  EXPECT_THAT(environmentError("XMEM_HUGE_PAGES", "2"), HasSubstr("XMEM_HUGE_PAGES: \"huge-pages\" is 2: expected true, false or a page size in KB"));
  EXPECT_THAT(environmentError("XMEM_LOCK", "maybe"), HasSubstr("XMEM_LOCK: \"lock\" is \"maybe\": expected true or false"));
  EXPECT_THAT(environmentError("XMEM_PROFILE", "rx/9"), HasSubstr("XMEM_PROFILE: \"profile\" is \"rx/9\": expected one of rx/0"));
}

// XMRig's own config.json, as it ships: the memory options are read, the rest is XMRig's business.
TEST(ConfigXmrig, ReadsTheMemoryOptionsOfAnXmrigConfigAndIgnoresTheRest) {
  auto config = loadMemoryConfig(XMEM_TEST_CONFIG_DIR "/xmrig.json");
  EXPECT_TRUE(config.hugePages);
  EXPECT_TRUE(config.hugePagesJit);
  EXPECT_TRUE(config.oneGbPages);
  EXPECT_TRUE(config.memoryPool);
  EXPECT_EQ(config.memoryPoolPages, 8U);
  EXPECT_TRUE(config.numa);
  EXPECT_EQ(config.randomxMode, RandomXMode::Light);
  EXPECT_EQ(config.scratchpadPrefetchMode, 2U);
  EXPECT_EQ(config.profile, "rx/0") << "XMRig's file names no algorithm: xmem's default";
  EXPECT_EQ(config.threads, 0U) << "threads come from its profiles, by algorithm";
  EXPECT_EQ(config.threadsFor("rx/0"), 3U) << "\"rx\": [0, 1, 2] covers every rx/*";
  EXPECT_EQ(config.threadsFor("rx/light"), 3U);
  EXPECT_EQ(config.threadsFor("rx/wow"), 4U) << "an exact name before its family";
  EXPECT_EQ(config.threadsFor("rx/arq"), 4U) << "\"rx/arq\": \"rx/wow\" borrows rx/wow's threads";
  EXPECT_EQ(config.threadsFor("cn-heavy/0"), 1U) << "[[intensity, affinity]]: one thread a row";
  EXPECT_EQ(config.threadsFor("cn-pico/0"), 5U) << "{\"threads\": 5}";
  EXPECT_EQ(config.threadsFor("argon2/chukwa"), 2U);
  EXPECT_EQ(config.threadsFor("cn/0"), 0U) << "false: disabled there, so xmem's default";
  EXPECT_EQ(config.threadsFor("ghostrider"), 0U) << "no profile and no \"*\"";
  EXPECT_EQ(parseMemoryConfig(R"({"cpu": {"*": [-1, -1]}})").threadsFor("ghostrider"), 2U) << "\"*\" covers the rest";
}

TEST(ConfigXmrig, TheNestedShapeIsWhatMakesItXmrigs) {
  EXPECT_THAT(errorOf(R"({"api": {"id": null}})"), HasSubstr("unknown key \"api\"")) << "no cpu or randomx object: ours, strict";
  auto withCpuFlag = parseMemoryConfig(R"({"cpu": true, "randomx": {"numa": false}, "api": {"id": null}})");
  EXPECT_FALSE(withCpuFlag.numa) << "\"cpu\": true only turns XMRig's CPU backend on";
  auto mixed = parseMemoryConfig(R"({"cpu": {"huge-pages": 2048}, "profile": "cn/0", "donate-level": 1})");
  EXPECT_TRUE(mixed.hugePages) << "2048 KB pages are the 2 MiB pages";
  EXPECT_EQ(mixed.profile, "cn/0") << "xmem's own keys can sit beside XMRig's sections";
  EXPECT_EQ(parseMemoryConfig(R"({"randomx": {"mode": "fast", "scratchpad_prefetch_mode": 0}})").randomxMode, RandomXMode::Fast);
}

TEST(ConfigXmrig, BadMemoryValuesNameTheDottedKey) {
  EXPECT_THAT(errorOf(R"({"cpu": {"huge-pages": "yes"}})"),
              HasSubstr("test.json: \"cpu.huge-pages\" is \"yes\": expected true, false or a page size in KB"));
  EXPECT_THAT(errorOf(R"({"cpu": {"huge-pages": 1048576}})"), HasSubstr("\"cpu.huge-pages\" is 1048576: expected"));
  EXPECT_THAT(errorOf(R"({"cpu": {"huge-pages-jit": 1}})"), HasSubstr("\"cpu.huge-pages-jit\" is 1: expected true or false"));
  EXPECT_THAT(errorOf(R"({"cpu": {"memory-pool": "big"}})"), HasSubstr("\"cpu.memory-pool\" is \"big\": expected"));
  EXPECT_THAT(errorOf(R"({"randomx": {"1gb-pages": "yes"}})"), HasSubstr("\"randomx.1gb-pages\" is \"yes\""));
  EXPECT_THAT(errorOf(R"({"randomx": {"numa": 2}})"), HasSubstr("\"randomx.numa\" is 2"));
  EXPECT_THAT(errorOf(R"({"randomx": {"mode": "turbo"}})"), HasSubstr("\"randomx.mode\" is \"turbo\": expected auto, fast or light"));
  EXPECT_THAT(errorOf(R"({"randomx": {"scratchpad_prefetch_mode": 7}})"),
              HasSubstr("\"randomx.scratchpad_prefetch_mode\" is 7: expected"));
  EXPECT_THAT(errorOf(R"({"cpu": {"rx": [0, "x"]}})"), HasSubstr("\"cpu.rx\" is [0,\"x\"]: expected"));
  EXPECT_THAT(errorOf(R"({"cpu": {"rx": {"threads": -2}}})"), HasSubstr("\"cpu.rx\" is {\"threads\":-2}: expected"));
  EXPECT_THAT(errorOf(R"({"cpu": {}, "threads": 0})"), HasSubstr("\"threads\" is 0")) << "our keys stay strict beside XMRig's";
}

}  // namespace
}  // namespace xmem
