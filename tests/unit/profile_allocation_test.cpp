#include <xmem/planner.h>
#include <xmem/profile_allocation.h>

#include "os/os.h"
#include "support/fake_platform.h"

#include <gtest/gtest.h>

namespace xmem {
namespace {

// 2 MiB pages the fake kernel handed out, over every mapping alive now.
std::uint64_t twoMbPagesMapped(const testing::FakePlatform& fake) {
  std::uint64_t pages = 0;
  for (const auto& mapping : fake.mappings())
    if (mapping.hugePageSize == kHugePageSize) pages += mapping.length / kHugePageSize;
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
    EXPECT_EQ(plan.nodes[0].need.twoMbPages, 128U + 3U + (jitOnHugePages ? 3U : 0U))
        << "cache + one scratchpad page a thread + one JIT page a thread with huge-pages-jit";

    auto allocation = ProfileAllocation::allocate(profile, options, topology);
    ASSERT_EQ(allocation.nodes().size(), 1U);
    EXPECT_EQ(allocation.nodes()[0].jit.size(), 3U) << "one JIT mapping per thread";
    EXPECT_EQ(twoMbPagesMapped(fake), plan.nodes[0].need.twoMbPages);
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
  EXPECT_EQ(plan.nodes[0].need.twoMbPages, 128U + 16U) << "cache + a pool of 16 pages for 3 scratchpads";
  auto allocation = ProfileAllocation::allocate(profile, options, topology);
  EXPECT_EQ(twoMbPagesMapped(fake), plan.nodes[0].need.twoMbPages);
}

}  // namespace
}  // namespace xmem
