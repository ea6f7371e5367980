#include "support/fake_platform.h"

#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace xmem {
namespace {

using ::testing::HasSubstr;

TEST(SystemInfo, IsProbedOnceAndRefreshedOnRequest) {
  testing::FakePlatform fake;
  os::ScopedPlatform scoped(fake);
  auto first = SystemInfo::get();
  EXPECT_EQ(first->platform, "fake");
  EXPECT_EQ(SystemInfo::get(), first) << "cached";
  fake.machine.kernel = "fake-2.0";
  auto fresh = SystemInfo::refresh();
  EXPECT_EQ(fresh->kernel, "fake-2.0");
  EXPECT_EQ(first->kernel, "fake-1.0") << "an old snapshot stays valid";
}

TEST(SystemInfo, AvailabilityReadsFreePagesLiveAndSaysWhy) {
  testing::FakePlatform fake;
  os::ScopedPlatform scoped(fake);
  auto none = hugePageAvailability(kHugePageSize);
  EXPECT_FALSE(none.available);
  EXPECT_THAT(none.reason, HasSubstr("no 2 MiB pages are reserved"));
  EXPECT_THAT(none.reason, HasSubstr("the count is in /fake/2097152/all")) << "the platform's own count file";
  EXPECT_FALSE(isHugePagesAvailable());

  fake.setHugePages(kHugePageSize, 0, 12);  // no re-probe needed: counts are read live
  auto some = hugePageAvailability(kHugePageSize);
  EXPECT_TRUE(some.available);
  EXPECT_EQ(some.freePages, 12U);
  EXPECT_TRUE(isHugePagesAvailable());
}

TEST(SystemInfo, OneGigabyteReasons) {
  testing::FakePlatform fake;
  fake.machine.cpuHasOneGbPages = false;
  {
    os::ScopedPlatform scoped(fake);
    EXPECT_THAT(hugePageAvailability(kOneGbPageSize).reason, HasSubstr("no pdpe1gb"));
    EXPECT_FALSE(isOneGbPagesAvailable());
  }
  fake.machine.cpuHasOneGbPages = true;
  fake.machine.hugePageSizes.pop_back();  // the kernel offers only 2 MiB
  {
    os::ScopedPlatform scoped(fake);
    EXPECT_THAT(hugePageAvailability(kOneGbPageSize).reason, HasSubstr("hugepagesz=1G"));
  }
}

TEST(SystemInfo, PerNodeAvailability) {
  testing::FakePlatform fake;
  fake.setNodes(2);
  fake.setHugePages(kHugePageSize, 1, 5);
  os::ScopedPlatform scoped(fake);
  EXPECT_FALSE(hugePageAvailability(kHugePageSize, 0U).available);
  EXPECT_THAT(hugePageAvailability(kHugePageSize, 0U).reason,
              HasSubstr("the count is in /fake/2097152/0"));
  EXPECT_TRUE(hugePageAvailability(kHugePageSize, 1U).available);
  EXPECT_THAT(hugePageAvailability(kHugePageSize, 7U).reason, HasSubstr("node 7 does not exist"));
}

TEST(Types, FormatBytes) {
  EXPECT_EQ(formatBytes(0), "0 bytes");
  EXPECT_EQ(formatBytes(4096), "4 KiB");
  EXPECT_EQ(formatBytes(2080 * MiB), "2080 MiB");
  EXPECT_EQ(formatBytes(GiB), "1 GiB");
  EXPECT_EQ(formatBytes(GiB + GiB / 2), "1536 MiB");
  EXPECT_EQ(formatBytes(GiB + GiB / 2 + 1), "1.5 GiB");
  EXPECT_EQ(formatBytes(3 * GiB), "3 GiB");
  EXPECT_EQ(formatBytes(1000), "1000 bytes");
}

// 2^34 GiB is 2^64 bytes: it wrapped to 0 (and 2^34 + 1 GiB to 1 GiB) before the overflow check.
TEST(Types, ParseSizeRefusesWhatDoesNotFitInSixtyFourBits) {
  EXPECT_EQ(parseSize("16777216G"), std::size_t{1} << 54);
  EXPECT_EQ(parseSize("17179869183G"), std::numeric_limits<std::size_t>::max() - GiB + 1);
  EXPECT_EQ(parseSize("17179869184G"), std::nullopt);
  EXPECT_EQ(parseSize("17179869185g"), std::nullopt);
  EXPECT_EQ(parseSize("18446744073709551615"), std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(parseSize("18446744073709551615k"), std::nullopt);
  EXPECT_EQ(parseSize("18446744073709551616"), std::nullopt);
}

TEST(Types, NodeSet) {
  NodeSet set{0, 3, 65};
  EXPECT_TRUE(set.contains(3));
  EXPECT_FALSE(set.contains(1));
  EXPECT_EQ(set.nodes(), (std::vector<std::uint32_t>{0, 3, 65}));
  EXPECT_EQ(set.words()[1], 2U) << "laid out as the kernel's node masks";
  EXPECT_TRUE(NodeSet{}.empty());
}

TEST(Types, Align) {
  EXPECT_EQ(VirtualMemory::align(100), 128U);
  EXPECT_EQ(VirtualMemory::align(3 * MiB, kHugePageSize), 4 * MiB);
  EXPECT_TRUE(isPowerOfTwo(64));
  EXPECT_FALSE(isPowerOfTwo(48));
  EXPECT_FALSE(isPowerOfTwo(0));
}

}  // namespace
}  // namespace xmem
