#include "support/test_platform.h"

#include <xmem/error.h>
#include <xmem/planner.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xmem {
namespace {

using ::testing::HasSubstr;

Topology nodesWithCpus(std::uint32_t count, std::uint32_t cpusEach) {
  std::vector<Topology::Node> nodes;
  std::vector<std::vector<std::uint32_t>> distances(count, std::vector<std::uint32_t>(count, 21));
  for (std::uint32_t id = 0; id < count; ++id) {
    Topology::Node node{id, {}, 64 * GiB};
    for (std::uint32_t cpu = 0; cpu < cpusEach; ++cpu) node.cpus.push_back(id * cpusEach + cpu);
    nodes.push_back(node);
    distances[id][id] = 10;
  }
  return Topology(nodes, distances);
}

// A machine with 1 GiB support and the given free pages on every node.
SystemInfo machine(std::uint32_t nodes, std::uint64_t free2M, std::uint64_t free1G) {
  SystemInfo info;
  info.cpuHasOneGbPages = true;
  for (auto [size, free] : {std::pair{kHugePageSize, free2M}, std::pair{kOneGbPageSize, free1G}}) {
    HugePageSizeInfo entry;
    entry.pageSize = size;
    for (std::uint32_t node = 0; node < nodes; ++node) entry.nodes[node] = {free, free, 0, 0, 0};
    info.hugePageSizes.push_back(entry);
  }
  return info;
}

TEST(Planner, SpecExampleSixteenThreadsOneSocket) {
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 16}, nodesWithCpus(1, 16), machine(1, 0, 0));
  ASSERT_EQ(plan.nodes.size(), 1U);
  const auto& node = plan.nodes[0];
  EXPECT_EQ(node.threads, 16U);
  // The spec's 2336 MB is dataset + cache (2080 + 256, as XMRig prints it); it counts the dataset
  // as 2048 MiB and adds the scratchpads, which lands on the same figure.
  EXPECT_EQ(node.shared(), 2336 * MiB);
  EXPECT_EQ(node.scratchpads, 32 * MiB);
  EXPECT_EQ(node.jit, 1 * MiB);
  EXPECT_EQ(node.total(), 2369 * MiB);
  // 2 x 1 GiB + (16 dataset + 128 cache + 16 scratchpad) x 2 MiB; JIT code is on 4 KiB pages
  // without huge-pages-jit.
  EXPECT_EQ(node.need(kOneGbPageSize), 2U);
  EXPECT_EQ(node.need(kHugePageSize), 160U);
  EXPECT_EQ(node.missing(kHugePageSize), 160U);
  ASSERT_EQ(plan.missing.size(), 2U) << "1 GiB pages first";
  EXPECT_EQ(plan.missing[0].pageSize, kOneGbPageSize);
  EXPECT_EQ(plan.missing[0].node, 0U);
  EXPECT_EQ(plan.missing[0].pages, 2U);
  EXPECT_EQ(plan.missing[1].pageSize, kHugePageSize);
  EXPECT_EQ(plan.missing[1].pages, 160U);
  EXPECT_EQ(plan.missing[1].total, 160U);
  // The file is the platform's: the generic POSIX one has no huge page pools, so none.
  EXPECT_EQ(plan.missing[1].countFile, xmem::testing::genericPosixInstalled()
                                           ? ""
                                           : "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages");
}

TEST(Planner, SpecExampleThirtyTwoThreadsTwoSockets) {
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 32}, nodesWithCpus(2, 16), machine(2, 0, 0));
  ASSERT_EQ(plan.nodes.size(), 2U);
  EXPECT_EQ(plan.nodes[0].threads, 16U);
  EXPECT_EQ(plan.nodes[1].threads, 16U);
  EXPECT_EQ(plan.shared(), 4672 * MiB) << "2336 per node, one dataset per node";
  EXPECT_EQ(plan.nodes[1].shared(), 2336 * MiB);
}

TEST(Planner, TwoMegabytePagesOnlyAndWhatIsFree) {
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 2, .oneGbPages = false}, nodesWithCpus(1, 2),
                         machine(1, 1200, 0));
  const auto& node = plan.nodes[0];
  EXPECT_EQ(node.need(kOneGbPageSize), 0U);
  EXPECT_EQ(node.need(kHugePageSize), 1040U + 128U + 2U);
  EXPECT_EQ(node.missing(kHugePageSize), 0U) << "1200 are free";
  EXPECT_TRUE(plan.satisfied());
  EXPECT_TRUE(plan.missing.empty());
}

TEST(Planner, JitCodeTakesAHugePageAThreadOnlyWithHugePagesJit) {
  const auto& rx = *findProfile("rx/0");
  auto plain = planMemory(rx, {.threads = 16, .oneGbPages = false}, nodesWithCpus(1, 16), machine(1, 0, 0));
  auto jit = planMemory(rx, {.threads = 16, .oneGbPages = false, .jitHugePages = true}, nodesWithCpus(1, 16), machine(1, 0, 0));
  EXPECT_EQ(plain.nodes[0].jit, 1 * MiB) << "16 x 64 KiB of code either way";
  EXPECT_EQ(jit.nodes[0].need(kHugePageSize), plain.nodes[0].need(kHugePageSize) + 16) << "one 2 MiB page per thread, not ceil(1 MiB / 2 MiB)";
  auto noHuge = planMemory(rx, {.threads = 16, .hugePages = false, .jitHugePages = true}, nodesWithCpus(1, 16), machine(1, 0, 0));
  EXPECT_EQ(noHuge.nodes[0].need(kHugePageSize), 0U) << "huge pages off: huge-pages-jit has nothing to use";
}

TEST(Planner, RandomXLightModePlansTheCacheAlone) {
  auto light = planMemory(*findProfile("rx/0"), {.threads = 2, .randomxLight = true}, nodesWithCpus(1, 2), machine(1, 0, 0));
  EXPECT_EQ(light.nodes[0].dataset, 0U);
  EXPECT_EQ(light.nodes[0].cache, 256 * MiB);
  EXPECT_EQ(light.nodes[0].need(kOneGbPageSize), 0U) << "no dataset, no 1 GiB pages";
  EXPECT_EQ(light.nodes[0].need(kHugePageSize), 128U + 2U);
  EXPECT_THAT(light.notes.front(), HasSubstr("RandomX light mode: no dataset"));
  auto cn = planMemory(*findProfile("cn/0"), {.threads = 2, .randomxLight = true}, nodesWithCpus(1, 2), machine(1, 0, 0));
  EXPECT_EQ(cn.nodes[0].scratchpads, 4 * MiB);
  EXPECT_THAT(cn.notes.front(), HasSubstr("does not apply to cn/0"));
}

TEST(Planner, ThreadsFollowCpusAndEmptyNodesGetNothing) {
  // Node 0 has 12 CPUs, node 1 has 4: 8 threads split 6 + 2.
  std::vector<Topology::Node> nodes{{0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0}, {1, {12, 13, 14, 15}, 0}};
  Topology topology(nodes, {{10, 21}, {21, 10}});
  auto plan = planMemory(*findProfile("cn/0"), {.threads = 8}, topology, machine(2, 0, 0));
  ASSERT_EQ(plan.nodes.size(), 2U);
  EXPECT_EQ(plan.nodes[0].threads, 6U);
  EXPECT_EQ(plan.nodes[1].threads, 2U);
  EXPECT_EQ(plan.nodes[0].dataset, 0U);
  EXPECT_EQ(plan.nodes[0].need(kHugePageSize), 6U);

  auto one = planMemory(*findProfile("rx/0"), {.threads = 1}, topology, machine(2, 0, 0));
  ASSERT_EQ(one.nodes.size(), 1U) << "no dataset on a node without workers";
  EXPECT_EQ(one.nodes[0].node, 0U);
}

TEST(Planner, FourNodesWithoutCpuInformationShareEvenly) {
  auto topology = Topology::fromDistances({0, 1, 2, 3}, {{10, 30, 20, 40}, {30, 10, 40, 20}, {20, 40, 10, 30}, {40, 20, 30, 10}});
  auto plan = planMemory(*findProfile("rx/wow"), {.threads = 6}, topology, machine(4, 0, 0));
  ASSERT_EQ(plan.nodes.size(), 4U);
  std::vector<unsigned> threads;
  for (const auto& node : plan.nodes) threads.push_back(node.threads);
  EXPECT_EQ(threads, (std::vector<unsigned>{2, 2, 1, 1}));
  EXPECT_EQ(plan.nodes[0].scratchpads, 2 * MiB) << "rx/wow: 1 MiB per thread";
  // Where each node's pool turns when full: nearest first, by the matrix, not by number.
  ASSERT_EQ(plan.nodes[1].fallback.size(), 3U);
  EXPECT_EQ(plan.nodes[1].fallback[0].node, 3U);
  EXPECT_EQ(plan.nodes[1].fallback[0].distance, 20U);
  EXPECT_EQ(plan.nodes[1].fallback[1].node, 0U);
  EXPECT_EQ(plan.nodes[1].fallback[2].node, 2U);
}

TEST(Planner, WithoutOneGigabyteSupportTheDatasetGoesOnTwoMegabytePages) {
  auto info = machine(1, 0, 0);
  info.cpuHasOneGbPages = false;
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 1}, nodesWithCpus(1, 1), info);
  EXPECT_EQ(plan.nodes[0].need(kOneGbPageSize), 0U);
  EXPECT_EQ(plan.nodes[0].need(kHugePageSize), 1040U + 128U + 1U);
  EXPECT_THAT(plan.notes.front(), HasSubstr("no 1 GiB pages"));
  EXPECT_FALSE(plan.options.oneGbPages) << "what the dataset is mapped with";
}

// arm64: the sizes are the kernel's, by base page, and each part is laid out as the cascade
// lays its mapping out (largest pages first, the smallest size rounding up).
SystemInfo armMachine(std::size_t basePage, std::vector<std::size_t> sizes, bool oneGbPages) {
  SystemInfo info;
  info.basePageSize = basePage;
  info.cpuHasOneGbPages = oneGbPages;
  for (auto size : sizes) {
    HugePageSizeInfo entry;
    entry.pageSize = size;
    entry.nodes[0] = {};
    info.hugePageSizes.push_back(entry);
  }
  return info;
}

std::vector<std::pair<std::size_t, std::uint64_t>> needs(const NodeRequirement& node) {
  std::vector<std::pair<std::size_t, std::uint64_t>> out;
  for (const auto& need : node.pages) out.emplace_back(need.pageSize, need.need);
  return out;
}

using Needs = std::vector<std::pair<std::size_t, std::uint64_t>>;

TEST(Planner, ArmFourKiBBasePagesUseEverySizeTheKernelLists) {
  const auto info = armMachine(4 * KiB, {64 * KiB, 2 * MiB, 32 * MiB, kOneGbPageSize}, true);
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 16, .jitHugePages = true}, nodesWithCpus(1, 16), info);
  const auto& node = plan.nodes[0];
  // Dataset 2080 MiB: 2 x 1 GiB + 1 x 32 MiB; cache 256 MiB: 8 x 32 MiB; pool 32 MiB: 1 x 32 MiB;
  // JIT 64 KiB a thread: one 64 KiB page each, not a 2 MiB one.
  EXPECT_EQ(needs(node), (Needs{{kOneGbPageSize, 2}, {32 * MiB, 10}, {64 * KiB, 16}}));
  EXPECT_EQ(describePages(node.datasetPages), "2 x 1 GiB + 1 x 32 MiB");
  EXPECT_EQ(describePages(node.jitPages), "16 x 64 KiB");
  ASSERT_EQ(plan.missing.size(), 3U) << "largest pages first";
  EXPECT_EQ(plan.missing[0].pageSize, kOneGbPageSize);
  EXPECT_EQ(plan.missing[1].pageSize, 32 * MiB);
  EXPECT_EQ(plan.missing[2].pageSize, 64 * KiB);
  EXPECT_TRUE(plan.options.oneGbPages);
}

TEST(Planner, ArmSixtyFourKiBBasePagesPlanThe512MiBPages) {
  // 64 KiB base pages: 2 MiB (contiguous PTEs), 512 MiB (the PMD), 16 GiB; no 1 GiB pages.
  const auto info = armMachine(64 * KiB, {2 * MiB, 512 * MiB, 16 * GiB}, false);
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 16, .jitHugePages = true}, nodesWithCpus(1, 16), info);
  const auto& node = plan.nodes[0];
  // Dataset: 4 x 512 MiB + 16 x 2 MiB; cache 128 and pool 16 x 2 MiB; JIT a 2 MiB page a thread.
  EXPECT_EQ(needs(node), (Needs{{512 * MiB, 4}, {2 * MiB, 16 + 128 + 16 + 16}}));
  EXPECT_EQ(describePages(node.datasetPages), "4 x 512 MiB + 16 x 2 MiB");
  EXPECT_THAT(plan.notes.front(), HasSubstr("with 64 KiB base pages this kernel has no 1 GiB pages"));
  EXPECT_EQ(plan.missing.front().pageSize, 512 * MiB);

  auto small = planMemory(*findProfile("rx/0"), {.threads = 1, .randomxLight = true}, nodesWithCpus(1, 1), info);
  EXPECT_EQ(needs(small.nodes[0]), (Needs{{2 * MiB, 128 + 1}})) << "256 MiB is less than one 512 MiB page";
}

TEST(Planner, ArmSixteenKiBBasePages) {
  const auto info = armMachine(16 * KiB, {2 * MiB, 32 * MiB, kOneGbPageSize}, true);
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 4, .jitHugePages = true}, nodesWithCpus(1, 4), info);
  // Dataset 2 x 1 GiB + 1 x 32 MiB, cache 8 x 32 MiB, pool 8 MiB: 4 x 2 MiB, JIT 4 x 2 MiB.
  EXPECT_EQ(needs(plan.nodes[0]), (Needs{{kOneGbPageSize, 2}, {32 * MiB, 9}, {2 * MiB, 8}}));
}

// Windows: no pool to count or reserve, and one page size per allocation.
TEST(Planner, WithoutAPoolNothingIsMissingAndSizesDoNotMix) {
  auto info = machine(1, 0, 0);
  info.hugePagePool = false;
  info.mixedPageSizes = false;
  auto plan = planMemory(*findProfile("rx/0"), {.threads = 2}, nodesWithCpus(1, 2), info);
  const auto& node = plan.nodes[0];
  EXPECT_EQ(describePages(node.datasetPages), "1040 x 2 MiB") << "3 x 1 GiB would leave 992 MiB unused";
  EXPECT_EQ(node.missing(kHugePageSize), 0U);
  EXPECT_TRUE(plan.missing.empty());
  EXPECT_TRUE(plan.satisfied());
  EXPECT_FALSE(plan.hugePagePool);
  EXPECT_THAT(plan.notes.back(), HasSubstr("no huge page pool"));
  EXPECT_FALSE(plan.options.oneGbPages);
  for (const auto& note : plan.notes) EXPECT_THAT(note, ::testing::Not(HasSubstr("Lock pages in memory"))) << "the right is not needed here";

  info.largePageRight.state = LargePageRight::State::NotAssigned;
  auto withoutRight = planMemory(*findProfile("rx/0"), {.threads = 2}, nodesWithCpus(1, 2), info);
  EXPECT_THAT(withoutRight.notes, ::testing::Contains(HasSubstr("\"Lock pages in memory\", which is not assigned")));
}

TEST(Planner, NodeListAndNumaOff) {
  auto topology = Topology::fromDistances({0, 1, 2, 3}, {{10, 30, 20, 40}, {30, 10, 40, 20}, {20, 40, 10, 30}, {40, 20, 30, 10}});
  auto chosen = planMemory(*findProfile("rx/0"), {.threads = 8, .nodes = {1, 3}}, topology, machine(4, 0, 0));
  ASSERT_EQ(chosen.nodes.size(), 2U) << "only the listed nodes get workers and datasets";
  EXPECT_EQ(chosen.nodes[0].node, 1U);
  EXPECT_EQ(chosen.nodes[1].node, 3U);
  EXPECT_EQ(chosen.nodes[0].threads + chosen.nodes[1].threads, 8U);

  auto single = planMemory(*findProfile("rx/0"), {.threads = 8, .numa = false}, topology, machine(4, 0, 0));
  ASSERT_EQ(single.nodes.size(), 1U) << "without NUMA: one dataset for all threads";
  EXPECT_EQ(single.nodes[0].threads, 8U);
  EXPECT_THROW(planMemory(*findProfile("rx/0"), {.threads = 1, .nodes = {9}}, topology, machine(4, 0, 0)), Error);
}

TEST(Planner, ProfilesAndErrors) {
  EXPECT_EQ(findProfile("RX/0"), findProfile("rx/0"));
  EXPECT_EQ(findProfile("nope"), nullptr);
  EXPECT_THAT(profileNames(), HasSubstr("rx/0, rx/light"));
  EXPECT_EQ(findProfile("cn-pico/0")->scratchpadSize, 256 * KiB);
  EXPECT_EQ(findProfile("cn-heavy/0")->scratchpadSize, 4 * MiB);
  EXPECT_EQ(findProfile("rx/arq")->scratchpadSize, 256 * KiB);
  EXPECT_EQ(findProfile("rx/light")->datasetSize, 0U);
  EXPECT_THROW(planMemory(*findProfile("rx/0"), {.threads = 0}, nodesWithCpus(1, 1), machine(1, 0, 0)), Error);
}

}  // namespace
}  // namespace xmem
