// A profile's layout on reserved 2 MiB pages: what each node line says is what smaps shows.
#include "kernel/kernel_test.h"

#include <xmem/profile_allocation.h>

#include <gmock/gmock.h>

namespace xmem::testing {
namespace {

using ProfileAllocationKernel = KernelTest;

TEST_F(ProfileAllocationKernel, LightModeCacheAndScratchpadsOnTwoMegabytePages) {
  XMEM_REQUIRE_NATIVE_PLATFORM("allocates on 2 MiB pages");
  XMEM_REQUIRE_ROOT("reserves 130 x 2 MiB pages");
  // 128 pages for the 256 MiB cache, 2 for the two scratchpads' pool.
  // On the first node only, so that the test means the same on a machine with several.
  auto topology = Topology::fromSystem();
  const auto first = topology.nodes().front().id;
  HugePageReservation pages(kHugePageSize, 130, first);
  ASSERT_EQ(pages.obtained(), 130U);
  ProfileAllocationOptions options;
  options.plan.threads = 2;
  options.plan.nodes = {first};
  auto layout = ProfileAllocation::allocate(*findProfile("rx/light"), options, topology);
  ASSERT_EQ(layout.nodes().size(), 1U);
  const auto& node = layout.nodes()[0];
  ASSERT_TRUE(node.cache.has_value());
  EXPECT_FALSE(node.dataset.has_value()) << "light mode has no dataset";
  EXPECT_EQ(node.breakdown().hugeTlbBytes(kHugePageSize), 256 * MiB);
  EXPECT_EQ(smapsAt(node.cache->data()).kernelPageSize, 2 * MiB);
  ASSERT_EQ(node.scratchpads.size(), 2U);
  EXPECT_EQ(smapsAt(node.scratchpads[1].data()).kernelPageSize, 2 * MiB);
  EXPECT_THAT(node.summary(), ::testing::HasSubstr("256 MiB (0+256) huge 100%: 128 x 2 MiB; scratchpads 2 x 2 MiB on huge pages"));
  EXPECT_EQ(node.jit.size(), 2U);
}

}  // namespace
}  // namespace xmem::testing
