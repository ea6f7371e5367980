// `xmem info` against the machine: what it prints must agree with what the kernel says.
#include "info_command.h"
#include "support/kernel_facts.h"

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace xmem::cli {
namespace {

std::string readWord(const std::string& path) {
  std::ifstream file(path);
  std::string all((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto open = all.find('[');
  return all.substr(open + 1, all.find(']') - open - 1);
}

TEST(InfoCommand, JsonAgreesWithTheKernel) {
  std::ostringstream out;
  ASSERT_EQ(runInfo({.json = true}, out), 0);
  auto report = nlohmann::json::parse(out.str());
  EXPECT_EQ(report["platform"], "linux");
  EXPECT_EQ(report["thp"]["mode"], readWord("/sys/kernel/mm/transparent_hugepage/enabled"));
  ASSERT_FALSE(report["nodes"].empty());
  EXPECT_GT(report["memory_total"].get<std::uint64_t>(), 0U);
  for (const auto& size : report["huge_pages"]) {
    std::string dir = "/sys/kernel/mm/hugepages/hugepages-" +
                      std::to_string(size["page_size"].get<std::size_t>() / 1024) + "kB/";
    EXPECT_EQ(size["total"], testing::readCount(dir + "nr_hugepages"));
    EXPECT_EQ(size["usable"], testing::readCount(dir + "free_hugepages") > testing::readCount(dir + "resv_hugepages"));
    EXPECT_FALSE(size["reason"].get<std::string>().empty());
  }
  EXPECT_TRUE(report["one_gb_pages"].contains("reason"));
  ASSERT_EQ(report["topology"]["nodes"].size(), report["nodes"].size());
  EXPECT_EQ(report["topology"]["distances"][0][0], 10);
}

TEST(InfoCommand, TextNamesEverySection) {
  std::ostringstream out;
  ASSERT_EQ(runInfo({}, out), 0);
  for (const char* section : {"Memory", "Huge pages", "1 GiB pages", "THP", "Memory lock", "NUMA nodes", "node 0", "Distances"})
    EXPECT_THAT(out.str(), ::testing::HasSubstr(section));
}

}  // namespace
}  // namespace xmem::cli
