// promote(), where() and migrate() on memory xmem did not allocate, against the real kernel.
#include "kernel/kernel_test.h"

#include <xmem/placement.h>

#include <gmock/gmock.h>
#include <sys/mman.h>

#include <cstring>

namespace xmem::testing {
namespace {

using PlacementKernel = KernelTest;

/// A plain anonymous mapping, 2 MiB aligned, as any program would have: no xmem involved.
class PlainMapping {
 public:
  explicit PlainMapping(std::size_t length) : length_(length) {
    raw_ = ::mmap(nullptr, length + 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    data_ = reinterpret_cast<std::uint8_t*>(alignUp(reinterpret_cast<std::uintptr_t>(raw_), 2 * MiB));
    ::madvise(data_, length_, MADV_NOHUGEPAGE);  // faulted on 4 KiB pages, whatever the THP mode
  }
  ~PlainMapping() { ::munmap(raw_, length_ + 2 * MiB); }
  PlainMapping(const PlainMapping&) = delete;
  PlainMapping& operator=(const PlainMapping&) = delete;
  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return length_; }

 private:
  std::size_t length_;
  void* raw_ = nullptr;
  std::uint8_t* data_ = nullptr;
};

TEST_F(PlacementKernel, PromoteTurnsA4KiBFaultedRangeIntoHugePagesKeepingItsContents) {
  PlainMapping range(64 * MiB);
  for (std::size_t i = 0; i < range.size(); i += 4096) range.data()[i] = static_cast<std::uint8_t>(i / 4096);
  ASSERT_EQ(kernelThpBytes(range.data(), range.size()), 0U);
  // Collapsing 32 blocks needs free 2 MiB blocks (the kernel may compact for more, but not always).
  if (const auto free = freeTwoMegabyteBlocks(); free < 64)
    GTEST_SKIP() << "NOT PROVEN: only " << free << " free 2 MiB blocks in /proc/buddyinfo, collapse needs 32";
  auto result = promote(range.data(), range.size());
  // Counted from the page flags: on a multi-node kernel NUMA balancing hides THPs from smaps.
  const auto thp = kernelThpBytes(range.data(), range.size());
  std::cout << "[ NOTE     ] " << result.message << '\n';
  if (result.deferred) {
    EXPECT_THAT(result.message, ::testing::HasSubstr("khugepaged"));
    GTEST_SKIP() << "this kernel has no MADV_COLLAPSE";
  }
  EXPECT_TRUE(result.collapsed);
  EXPECT_EQ(result.eligibleBytes, 64 * MiB);
  EXPECT_GT(thp, 32 * MiB) << "most of it collapsed on a mostly free machine";
  EXPECT_EQ(result.hugeAfter, thp) << "the report is the kernel's figure";
  for (std::size_t i = 0; i < range.size(); i += 4096)
    ASSERT_EQ(range.data()[i], static_cast<std::uint8_t>(i / 4096)) << "offset " << i;
}

TEST_F(PlacementKernel, WhereAgreesWithSmapsOnThpBasePagesAndHugetlb) {
  XMEM_REQUIRE_NATIVE_PLATFORM("compares where() with the kernel on huge pages");
  PlainMapping range(16 * MiB);
  std::memset(range.data(), 1, 6 * MiB);  // 4 KiB pages, then nothing
  auto before = where(range.data(), range.size());
  EXPECT_EQ(before.bytesOf(PageKind::Base), 6 * MiB) << before.summary();
  EXPECT_EQ(before.residentBytes(), residentBytes(range.data(), range.size()));
  promote(range.data(), 4 * MiB);
  auto after = where(range.data(), range.size());
  std::cout << "[ NOTE     ] " << after.summary() << '\n';
  // Every THP part, with a node or without: a page NUMA balancing has just marked for a hinting
  // fault (multi-node guests) is located, but move_pages names no node for it.
  std::size_t thpParts = 0;
  for (const auto& part : after.parts) thpParts += part.mapped && part.kind == PageKind::Transparent ? part.length : 0;
  if (after.exact) EXPECT_EQ(thpParts, kernelThpBytes(range.data(), range.size()));
  else EXPECT_EQ(after.thpBytesEstimate, smapsAt(range.data()).anonHugePages);
  EXPECT_EQ(after.bytesByNode().size(), 1U);

  XMEM_REQUIRE_ROOT("reserves 2 MiB pages for its hugetlb half (the THP and 4 KiB half ran)");
  HugePageReservation pages(kHugePageSize, 4);
  ASSERT_EQ(pages.obtained(), 4U);
  VirtualMemoryOptions options;
  options.size = 8 * MiB;
  options.prefaultThreads = 1;
  VirtualMemory hugetlb(options);
  auto map = where(hugetlb.data(), hugetlb.size());
  ASSERT_FALSE(map.parts.empty());
  for (const auto& part : map.parts) {  // one part per node the pages came from
    EXPECT_EQ(part.kind, PageKind::HugeTlb) << map.summary();
    EXPECT_EQ(part.pageSize, kHugePageSize);
    EXPECT_EQ(part.node, nodeOfPage(hugetlb.data() + part.offset)) << map.summary();
  }
  EXPECT_EQ(map.bytesOf(PageKind::HugeTlb), smapsAt(hugetlb.data()).privateHugetlb);
}

TEST_F(PlacementKernel, MigrateToTheNodePagesAreOnMovesNothingAndAMissingNodeIsAnError) {
  PlainMapping range(4 * MiB);
  std::memset(range.data(), 1, 2 * MiB);
  const auto node = nodeOfPage(range.data());
  ASSERT_TRUE(node.has_value());
  auto result = migrate(range.data(), range.size(), static_cast<std::uint32_t>(*node));
  EXPECT_EQ(result.pages, 512U);
  EXPECT_EQ(result.alreadyThere, 512U);
  EXPECT_EQ(result.notPresent, 512U);
  EXPECT_EQ(result.moved, 0U);
  EXPECT_EQ(result.failed(), 0U);
  const auto missing = static_cast<std::uint32_t>(SystemInfo::get()->nodes.back().id + 1);
  EXPECT_THROW(migrate(range.data(), range.size(), missing), Error);
}

}  // namespace
}  // namespace xmem::testing
