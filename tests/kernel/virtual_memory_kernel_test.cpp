// VirtualMemory against the real kernel: each reported page size is checked in /proc/self/smaps.
#include "kernel/kernel_test.h"

#include <gmock/gmock.h>
#include <sys/mman.h>

#include <cstring>

namespace xmem::testing {
namespace {

using ::testing::HasSubstr;

VirtualMemoryOptions options(std::size_t size) {
  VirtualMemoryOptions o;
  o.size = size;
  return o;
}

using VirtualMemoryKernel = KernelTest;

TEST_F(VirtualMemoryKernel, TwoMegabytePagesAreWhatSmapsShows) {
  XMEM_REQUIRE_NATIVE_PLATFORM("maps explicit 2 MiB pages");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages");
  HugePageReservation pages(kHugePageSize, 8);
  ASSERT_EQ(pages.obtained(), 8U) << "2 MiB pages could not be reserved on this machine";
  auto o = options(16 * MiB);
  o.transparentHugePages = false;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 16 * MiB);
  EXPECT_TRUE(memory.isHugePages());
  std::memset(memory.data(), 0xA5, memory.size());
  auto area = smapsAt(memory.data());
  ASSERT_TRUE(area.found);
  EXPECT_EQ(area.kernelPageSize, 2 * MiB);
  EXPECT_EQ(area.privateHugetlb, 16 * MiB);
  EXPECT_EQ(area.end - area.start, 16 * MiB);
}

TEST_F(VirtualMemoryKernel, OvercommittedSurplusPagesAreUsedWithoutAReservation) {
  XMEM_REQUIRE_NATIVE_PLATFORM("maps surplus hugetlb pages");
  XMEM_REQUIRE_ROOT("sets nr_hugepages and nr_overcommit_hugepages");
  HugePageReservation none(kHugePageSize, 0);  // free pages would be used before surplus ones
  ASSERT_EQ(none.obtained(), 0U);
  ScopedCount overcommit("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages", 8);
  auto o = options(16 * MiB);
  o.transparentHugePages = false;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 16 * MiB) << memory.report().summary();
  std::memset(memory.data(), 1, memory.size());
  EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, 2 * MiB);
  EXPECT_EQ(readCount("/sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages"), 8U);
}

TEST_F(VirtualMemoryKernel, OneGigabytePagesThenTwoMegabytePagesInOneMapping) {
  XMEM_REQUIRE_NATIVE_PLATFORM("maps 1 GiB and 2 MiB pages");
  XMEM_REQUIRE_ROOT("reserves 1 GiB and 2 MiB pages");
  // 1 GiB pages first: they need contiguous physical memory, which 2 MiB reservations break up.
  HugePageReservation gigantic(kOneGbPageSize, 1);
  HugePageReservation huge(kHugePageSize, 16);
  auto o = options(1 * GiB + 32 * MiB);
  o.oneGbPages = true;
  o.transparentHugePages = false;
  if (gigantic.obtained() == 0) {
    std::cout << "[ NOTE     ] the kernel could not reserve a 1 GiB page now (memory fragmented): "
                 "checking the reported fallback instead\n";
    VirtualMemory memory(o);
    EXPECT_FALSE(memory.isOneGbPages());
    EXPECT_THAT(decisions(memory), HasSubstr("1 GiB pages: none free"));
    return;
  }
  {
    VirtualMemory memory(o);
    ASSERT_EQ(memory.report().segments.size(), 2U) << memory.report().summary();
    EXPECT_TRUE(memory.isOneGbPages());
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kOneGbPageSize), 1 * GiB);
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kHugePageSize), 32 * MiB);
    memory.data()[0] = 1;
    memory.data()[memory.size() - 1] = 1;
    EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, 1 * GiB);
    EXPECT_EQ(smapsAt(memory.data() + GiB).kernelPageSize, 2 * MiB);
    EXPECT_EQ(smapsAt(memory.data() + GiB).start, reinterpret_cast<std::uintptr_t>(memory.data()) + GiB);
  }
  // Freed with its real length: the pages are free again.
  EXPECT_EQ(readCount("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages"), gigantic.obtained());
}

TEST_F(VirtualMemoryKernel, PartialMappingReportsTheSplitTheKernelShows) {
  XMEM_REQUIRE_NATIVE_PLATFORM("maps explicit huge pages");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages");
  HugePageReservation pages(kHugePageSize, 10);
  ASSERT_EQ(pages.obtained(), 10U);
  auto o = options(64 * MiB);
  o.prefaultThreads = 2;
  VirtualMemory memory(o);
  const auto& report = memory.report();
  ASSERT_EQ(report.segments.size(), 2U) << report.summary();
  EXPECT_EQ(report.hugeTlbBytes(), 20 * MiB);
  EXPECT_EQ(report.thpEligibleBytes(), 44 * MiB);
  auto hugetlb = smapsAt(memory.data());
  EXPECT_EQ(hugetlb.kernelPageSize, 2 * MiB);
  EXPECT_EQ(hugetlb.end - hugetlb.start, 20 * MiB);
  auto transparent = smapsAt(memory.data() + 20 * MiB);
  EXPECT_EQ(transparent.kernelPageSize, 4 * KiB);
  EXPECT_EQ(transparent.start, reinterpret_cast<std::uintptr_t>(memory.data()) + 20 * MiB);
  EXPECT_EQ(report.thpVerifiedBytes, kernelThpBytes(memory.data() + 20 * MiB, 44 * MiB)) << "the report is the kernel's figure";
  std::cout << "[ NOTE     ] " << report.summary() << '\n';
}

TEST_F(VirtualMemoryKernel, WithoutReservedPagesTransparentHugePagesAreMeasured) {
  if (!SystemInfo::get()->thp.usable()) GTEST_SKIP() << "THP is off on this machine";
  auto o = options(128 * MiB);
  o.hugePages = false;  // THP for all of it, whatever 2 MiB pages others reserved: no root needed
  o.prefaultThreads = VirtualMemory::kAllCores;
  VirtualMemory memory(o);
  const auto& report = memory.report();
  ASSERT_EQ(report.segments.size(), 1U);
  EXPECT_EQ(report.segments[0].kind, PageKind::Transparent);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(memory.data()) % (2 * MiB), 0U) << "THP needs 2 MiB alignment";
  // The page flags, not smaps: a multi-node kernel's NUMA balancing hides THPs from smaps' count.
  const auto thp = kernelThpBytes(memory.data(), memory.size());
  EXPECT_EQ(report.thpVerifiedBytes, thp);
  EXPECT_GT(report.thpVerifiedBytes, 0U) << "madvise + fault-in on a mostly free machine gives huge pages";
  EXPECT_EQ(memory.usage().thpBytes, kernelThpBytes(memory.data(), memory.size()));
  std::cout << "[ NOTE     ] " << report.summary() << '\n';
}

// A PROT_NONE huge PMD is what NUMA balancing leaves for a hinting fault; on Debian's 6.1 kernel
// smaps' AnonHugePages does not count it. The report must count it all the same, as root.
TEST_F(VirtualMemoryKernel, TransparentHugePagesAreMeasuredWhileTheyCannotBeAccessed) {
  if (!SystemInfo::get()->thp.usable()) GTEST_SKIP() << "THP is off on this machine";
  if (!thpBytesFromPageFlags(this, 1)) GTEST_SKIP() << "the page flags need root: THP can only be read from smaps";
  HugePageReservation none(kHugePageSize, 0);
  auto o = options(32 * MiB);
  o.prefaultThreads = 1;
  VirtualMemory memory(o);
  const auto thp = *thpBytesFromPageFlags(memory.data(), memory.size());
  ASSERT_GT(thp, 0U) << memory.report().summary();
  ASSERT_EQ(::mprotect(memory.data(), memory.size(), PROT_NONE), 0);
  std::cout << "[ NOTE     ] smaps counts " << formatBytes(smapsAt(memory.data()).anonHugePages) << " of "
            << formatBytes(thp) << " THP while the range is PROT_NONE\n";
  EXPECT_EQ(memory.usage().thpBytes, thp) << "what smaps alone would say: " << formatBytes(smapsAt(memory.data()).anonHugePages);
  ::mprotect(memory.data(), memory.size(), PROT_READ | PROT_WRITE);
}

TEST_F(VirtualMemoryKernel, BindingToANodePutsEveryHugePageThere) {
  XMEM_REQUIRE_NATIVE_PLATFORM("binds huge pages to a node");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages on node 0");
  HugePageReservation pages(kHugePageSize, 8, 0U);
  ASSERT_EQ(pages.obtained(), 8U);
  auto o = options(16 * MiB);
  o.node = 0;
  o.numaPolicy = NumaPolicy::Bind;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 16 * MiB);
  EXPECT_TRUE(memory.report().bound);
  EXPECT_EQ(memory.report().residentBytesByNode.at(0), 16 * MiB) << "faulted in on the node at allocation";
  for (std::size_t offset = 0; offset < memory.size(); offset += 2 * MiB)
    EXPECT_EQ(nodeOfPage(memory.data() + offset), 0);
}

TEST_F(VirtualMemoryKernel, BindingToANodeWithoutFreeHugePagesFallsBackInsteadOfSigbus) {
  XMEM_REQUIRE_NATIVE_PLATFORM("binds huge pages to a node");
  XMEM_REQUIRE_ROOT("empties node 0's 2 MiB pages");
  // No pages free on the node: a bound hugetlb mapping would map fine and die at first touch.
  HugePageReservation none(kHugePageSize, 0, 0U);
  auto o = options(16 * MiB);
  o.node = 0;
  o.numaPolicy = NumaPolicy::Bind;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U);
  EXPECT_THAT(decisions(memory), HasSubstr("2 MiB pages: none free on node 0"));
  std::memset(memory.data(), 1, memory.size());  // survives first touch
}

TEST_F(VirtualMemoryKernel, PrefaultWithAllCoresMakesEveryPageResident) {
  auto o = options(256 * MiB);
  o.transparentHugePages = false;
  o.prefaultThreads = VirtualMemory::kAllCores;
  VirtualMemory memory(o);
  EXPECT_GE(memory.report().prefaultThreads, 1U);
  EXPECT_EQ(residentBytes(memory.data(), memory.size()), 256 * MiB);
}

TEST_F(VirtualMemoryKernel, NamedWhereTheKernelAllows) {
  auto o = options(4 * MiB);
  o.name = "xmem:test";
  VirtualMemory memory(o);
  if (SystemInfo::get()->namedMappings) {
    EXPECT_TRUE(memory.report().named);
    EXPECT_EQ(smapsAt(memory.data()).name, "[anon:xmem:test]");
  } else {
    std::cout << "[ NOTE     ] this kernel cannot name mappings; checking the report says so\n";
    EXPECT_FALSE(memory.report().named);
    EXPECT_THAT(decisions(memory), HasSubstr("CONFIG_ANON_VMA_NAME"));
  }
}

TEST_F(VirtualMemoryKernel, ProbesSeeReservedPagesAsUsableNow) {
  XMEM_REQUIRE_NATIVE_PLATFORM("reads huge page counts");
  EXPECT_EQ(isHugePagesAvailable(), readCount("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") >
                                        readCount("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages"));
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages (the first check ran)");
  HugePageReservation pages(kHugePageSize, 2);
  ASSERT_EQ(pages.obtained(), 2U);
  EXPECT_TRUE(isHugePagesAvailable());
  EXPECT_TRUE(VirtualMemory::isHugepagesAvailable());
}

}  // namespace
}  // namespace xmem::testing
