#include <xmem/planner.h>
#include <xmem/profile_allocation.h>

#include "os/os.h"
#include "support/fake_platform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace xmem {
namespace {

// Explicit huge pages the fake kernel handed out, by size, over every mapping alive now.
std::map<std::size_t, std::uint64_t> hugePagesMapped(const testing::FakePlatform& fake) {
  std::map<std::size_t, std::uint64_t> pages;
  for (const auto& mapping : fake.mappings())
    if (mapping.hugePageSize != 0) pages[mapping.hugePageSize] += mapping.length / mapping.hugePageSize;
  return pages;
}

std::uint64_t twoMbPagesMapped(const testing::FakePlatform& fake) { return hugePagesMapped(fake)[kHugePageSize]; }

std::map<std::size_t, std::uint64_t> planned(const NodeRequirement& node) {
  std::map<std::size_t, std::uint64_t> pages;
  for (const auto& need : node.pages) pages[need.pageSize] = need.need;
  return pages;
}

// The plan promises what the allocation then takes: one JIT mapping per thread, on a 2 MiB page
// of its own only with huge-pages-jit, else on 4 KiB pages that need no reservation.
TEST(ProfileAllocation, MapsExactlyTheHugePagesThePlanCounts) {
  const Topology topology({{0, {0, 1, 2, 3}, 16 * GiB}}, {{10}});
  for (const bool jitOnHugePages : {false, true}) {
    SCOPED_TRACE(jitOnHugePages ? "huge-pages-jit" : "JIT on 4 KiB pages");
    testing::FakePlatform fake;
    fake.setHugePages(kHugePageSize, 0, 1000);
    os::ScopedPlatform scoped(fake);
    ProfileAllocationOptions options;
    options.plan.threads = 3;
    options.plan.jitHugePages = jitOnHugePages;
    options.prefaultThreads = 0;
    const auto& profile = *findProfile("rx/light");
    const auto plan = planMemory(profile, options.plan, topology, *SystemInfo::refresh());
    ASSERT_EQ(plan.nodes.size(), 1U);
    EXPECT_EQ(plan.nodes[0].need(kHugePageSize), 128U + 3U + (jitOnHugePages ? 3U : 0U))
        << "cache + one scratchpad page a thread + one JIT page a thread with huge-pages-jit";

    auto allocation = ProfileAllocation::allocate(profile, options, topology);
    ASSERT_EQ(allocation.nodes().size(), 1U);
    EXPECT_EQ(allocation.nodes()[0].jit.size(), 3U) << "one JIT mapping per thread";
    EXPECT_EQ(twoMbPagesMapped(fake), plan.nodes[0].need(kHugePageSize));
  }
}

// XMRig's memory-pool sets each node's scratchpad pool to at least that many 2 MiB pages: the
// plan counts the pool the allocation makes, not the threads' scratchpads alone.
TEST(ProfileAllocation, MapsThePoolThePlanCountsWithAMemoryPoolSize) {
  const Topology topology({{0, {0, 1, 2, 3}, 16 * GiB}}, {{10}});
  testing::FakePlatform fake;
  fake.setHugePages(kHugePageSize, 0, 1000);
  os::ScopedPlatform scoped(fake);
  ProfileAllocationOptions options;
  options.plan.threads = 3;
  options.plan.poolPages = 16;
  options.prefaultThreads = 0;
  const auto& profile = *findProfile("rx/light");
  const auto plan = planMemory(profile, options.plan, topology, *SystemInfo::refresh());
  ASSERT_EQ(plan.nodes.size(), 1U);
  EXPECT_EQ(plan.nodes[0].need(kHugePageSize), 128U + 16U) << "cache + a pool of 16 pages for 3 scratchpads";
  auto allocation = ProfileAllocation::allocate(profile, options, topology);
  EXPECT_EQ(twoMbPagesMapped(fake), plan.nodes[0].need(kHugePageSize));
}

// On arm64's layouts too: the plan counts, size by size, what the allocation then maps.
TEST(ProfileAllocation, MapsThePagesThePlanCountsOnArmLayouts) {
  const Topology topology({{0, {0, 1}, 16 * GiB}}, {{10}});
  struct Layout {
    const char* name;
    std::size_t basePage;
    std::vector<std::size_t> sizes;
    bool oneGbPages;  ///< as Linux says on arm64: the kernel lists 1 GiB pages
  };
  for (const auto& layout : {Layout{"4 KiB", 4 * KiB, {64 * KiB, 2 * MiB, 32 * MiB, kOneGbPageSize}, true},
                             Layout{"16 KiB", 16 * KiB, {2 * MiB, 32 * MiB, kOneGbPageSize}, true},
                             Layout{"64 KiB", 64 * KiB, {2 * MiB, 512 * MiB, 16 * GiB}, false}}) {
    SCOPED_TRACE(std::string(layout.name) + " base pages");
    testing::FakePlatform fake;
    fake.machine.basePageSize = layout.basePage;
    fake.machine.hugePageSizes.clear();
    for (auto size : layout.sizes) fake.setHugePages(size, 0, 4000);
    fake.machine.cpuHasOneGbPages = layout.oneGbPages;
    os::ScopedPlatform scoped(fake);
    ProfileAllocationOptions options;
    options.plan.threads = 2;
    options.plan.jitHugePages = true;
    options.prefaultThreads = 0;
    const auto& profile = *findProfile("rx/0");
    const auto plan = planMemory(profile, options.plan, topology, *SystemInfo::refresh());
    ASSERT_EQ(plan.nodes.size(), 1U);
    EXPECT_TRUE(plan.satisfied());
    auto allocation = ProfileAllocation::allocate(profile, options, topology);
    EXPECT_EQ(hugePagesMapped(fake), planned(plan.nodes[0]));
    EXPECT_EQ(allocation.nodes()[0].breakdown().hugeTlbBytes(), 2080 * MiB + 256 * MiB) << allocation.nodes()[0].summary();
  }
}

// Advised but not yet huge (not touched): the summary counts it on base pages, of the machine's size.
TEST(ProfileAllocation, TheSummaryNamesTheBasePageSizeOfWhatIsNotHuge) {
  const Topology topology({{0, {0}, 16 * GiB}}, {{10}});
  testing::FakePlatform fake;
  fake.machine.basePageSize = 16 * KiB;
  fake.machine.thp.pmdSize = 32 * MiB;
  os::ScopedPlatform scoped(fake);
  ProfileAllocationOptions options;
  options.plan.threads = 1;
  options.prefaultThreads = 0;
  auto allocation = ProfileAllocation::allocate(*findProfile("rx/light"), options, topology);
  ASSERT_EQ(allocation.nodes().size(), 1U);
  const auto summary = allocation.nodes()[0].summary();
  EXPECT_THAT(summary, ::testing::HasSubstr("256 MiB 16 KiB pages")) << "no free huge pages: THP advised, none huge yet";
  EXPECT_THAT(summary, ::testing::Not(::testing::HasSubstr("0 bytes")));
}

}  // namespace
}  // namespace xmem
