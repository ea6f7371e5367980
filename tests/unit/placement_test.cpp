// where(), promote() and migrate() through the fake platform: several nodes, and failures on demand.
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/placement.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using testing::FakePlatform;

class Placement : public ::testing::Test {
 protected:
  void SetUp() override {
    BackoffTable::instance().reset();
    fake.setNodes(2);
    fake.setHugePages(kHugePageSize, 0, 4);
    scoped.emplace(fake);
  }
  void TearDown() override { BackoffTable::instance().reset(); }

  /// 8 MiB on 2 MiB pages followed by 24 MiB advised for THP, of which `touched` are faulted in.
  VirtualMemory mixed(unsigned prefaultThreads = 1) {
    VirtualMemoryOptions options;
    options.size = 32 * MiB;
    options.prefaultThreads = prefaultThreads;
    return VirtualMemory(options);
  }

  /// Plain 4 KiB pages, 2 MiB aligned, faulted in now or left untouched.
  static VirtualMemory basePages(std::size_t size, bool faulted) {
    VirtualMemoryOptions options;
    options.size = size;
    options.alignment = 2 * MiB;
    options.hugePages = false;
    options.transparentHugePages = false;
    options.prefaultThreads = faulted ? 1 : 0;
    return VirtualMemory(options);
  }

  FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(Placement, WhereTellsEachPartsPagesAndNode) {
  auto memory = mixed();
  auto map = where(memory.data(), memory.size());
  EXPECT_TRUE(map.exact);
  ASSERT_EQ(map.parts.size(), 2U) << map.summary();
  EXPECT_EQ(map.parts[0].kind, PageKind::HugeTlb);
  EXPECT_EQ(map.parts[0].length, 8 * MiB);
  EXPECT_EQ(map.parts[0].pageSize, kHugePageSize);
  EXPECT_EQ(map.parts[1].kind, PageKind::Transparent);
  EXPECT_EQ(map.parts[1].offset, 8 * MiB);
  EXPECT_EQ(map.parts[1].length, 24 * MiB);
  EXPECT_EQ(map.parts[1].node, 0U);
  EXPECT_EQ(map.bytesByNode().at(0), 32 * MiB);
  EXPECT_EQ(map.summary(), "32 MiB: 8 MiB 2 MiB pages + 24 MiB THP, node 0 32 MiB");
}

TEST_F(Placement, WhereSaysWhatIsNotInMemoryAndWhatIsNotMapped) {
  auto memory = basePages(16 * MiB, false);
  auto map = where(memory.data(), memory.size() + 4 * MiB);
  ASSERT_EQ(map.parts.size(), 2U) << map.summary();
  EXPECT_FALSE(map.parts[0].node.has_value());
  EXPECT_TRUE(map.parts[0].mapped);
  EXPECT_FALSE(map.parts[1].mapped);
  EXPECT_EQ(map.residentBytes(), 0U);
  EXPECT_THAT(map.summary(), HasSubstr("16 MiB not in memory + 4 MiB not mapped"));
}

TEST_F(Placement, MigrateCountsMovedAlreadyThereAndAbsentPages) {
  auto memory = basePages(4 * MiB, true);
  auto first = migrate(memory.data(), 2 * MiB, 1);
  EXPECT_EQ(first.pages, 512U);
  EXPECT_EQ(first.moved, 512U);
  EXPECT_EQ(first.bytesMoved, 2 * MiB);
  auto again = migrate(memory.data(), memory.size(), 1);
  EXPECT_EQ(again.alreadyThere, 512U);
  EXPECT_EQ(again.moved, 512U);
  EXPECT_THAT(again.message, HasSubstr("512 page(s) (2 MiB) moved to node 1, 512 already there, 0 not in memory"));
  EXPECT_EQ(where(memory.data(), memory.size()).bytesByNode().at(1), 4 * MiB);
}

TEST_F(Placement, MigrateReportsPagesTheKernelCouldNotMove) {
  fake.switches.moveErrno = EBUSY;
  auto memory = basePages(1 * MiB, true);
  auto result = migrate(memory.data(), memory.size(), 1);
  EXPECT_EQ(result.moved, 128U);
  EXPECT_EQ(result.failed(), 128U);
  EXPECT_EQ(result.failedByReason.at("busy"), 128U);
  EXPECT_THAT(result.message, HasSubstr("128 could not move: busy"));
}

TEST_F(Placement, MigrateToANodeTheMachineLacksIsAnErrorNamingIt) {
  auto memory = mixed();
  try {
    migrate(memory.data(), memory.size(), 7);
    ADD_FAILURE() << "node 7 accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_STREQ(error.what(), "node 7 does not exist: this machine has node(s) 0, 1");
  }
}

TEST_F(Placement, PromoteCollapsesWholeBlocksAndSaysHowMuchBecameHuge) {
  auto memory = basePages(8 * MiB, true);
  auto result = promote(memory.data(), memory.size());
  EXPECT_TRUE(result.collapsed);
  EXPECT_EQ(result.eligibleBytes, 8 * MiB);
  EXPECT_EQ(result.hugeBefore, 0U);
  EXPECT_EQ(result.hugeAfter, 8 * MiB);
  EXPECT_EQ(result.message, "8 MiB of 8 MiB on transparent huge pages (0 bytes before)");
}

TEST_F(Placement, PromoteRetriesWhileTheKernelSaysTryAgain) {
  fake.switches.collapseErrno = EAGAIN;
  fake.switches.collapseFailures = 2;
  auto memory = basePages(4 * MiB, false);
  auto result = promote(memory.data(), memory.size());
  EXPECT_EQ(result.retries, 2U);
  EXPECT_EQ(fake.collapseCalls, 3);
  EXPECT_EQ(result.hugeAfter, 4 * MiB);
}

TEST_F(Placement, PromoteOnAKernelWithoutCollapseLeavesItToKhugepaged) {
  fake.switches.collapseOnRequest = false;
  auto memory = basePages(4 * MiB, false);
  auto result = promote(memory.data(), memory.size());
  EXPECT_TRUE(result.deferred);
  EXPECT_FALSE(result.collapsed);
  EXPECT_EQ(fake.collapseCalls, 0) << "known from the kernel, not tried";
  EXPECT_THAT(result.message, HasSubstr("khugepaged will collapse it in the background"));
}

// EINVAL from MADV_COLLAPSE on a kernel that has it is about that range (pages it cannot
// collapse): the next area is still collapsed, and the report says what failed.
TEST_F(Placement, PromoteTakesEinvalAsOneAreasFailureAndGoesOn) {
  fake.switches.collapseErrno = EINVAL;
  fake.switches.collapseFailures = 1;
  void* region = nullptr;
  ASSERT_TRUE(fake.reserve(8 * MiB, 2 * MiB, region));
  for (std::size_t half = 0; half < 2; ++half) {
    os::MapRequest request;
    request.length = 4 * MiB;
    request.fixedAddress = static_cast<std::uint8_t*>(region) + half * 4 * MiB;
    os::MapResult mapped;
    ASSERT_TRUE(fake.map(request, mapped));
  }
  auto result = promote(region, 8 * MiB);
  EXPECT_FALSE(result.deferred);
  EXPECT_EQ(fake.collapseCalls, 2) << "the second area is collapsed too";
  EXPECT_EQ(result.hugeAfter, 4 * MiB);
  EXPECT_THAT(result.message, HasSubstr("MADV_COLLAPSE: Invalid argument (EINVAL)"));
  EXPECT_THAT(result.message, ::testing::Not(HasSubstr("khugepaged")));
  fake.unmap(region, 8 * MiB);
}

TEST_F(Placement, PromoteOfLessThanOneBlockOrOfHugetlbDoesNothing) {
  auto memory = mixed();
  EXPECT_THAT(promote(memory.data() + 1, 2 * MiB).message, HasSubstr("holds no whole 2 MiB block"));
  auto onHugetlb = promote(memory.data(), 8 * MiB);
  EXPECT_EQ(onHugetlb.eligibleBytes, 0U);
  EXPECT_EQ(fake.collapseCalls, 0);
  EXPECT_THAT(onHugetlb.message, HasSubstr("explicit huge pages"));
}

}  // namespace
}  // namespace xmem
