#include "os/linux/proc_parsers.h"

#include <xmem/types.h>

#include <gtest/gtest.h>

namespace xmem::os::linux_text {
namespace {

TEST(ProcParsers, ThpModeIsTheBracketedWord) {
  EXPECT_EQ(parseThpMode("always [madvise] never\n"), ThpMode::Madvise);
  EXPECT_EQ(parseThpMode("[always] madvise never"), ThpMode::Always);
  EXPECT_EQ(parseThpMode("always madvise [never]"), ThpMode::Never);
  EXPECT_EQ(parseThpMode("garbage"), ThpMode::Unsupported);
  EXPECT_EQ(selectedWord("always defer defer+madvise [madvise] never"), "madvise");
}

TEST(ProcParsers, CpuListRangesAndSingles) {
  EXPECT_EQ(parseCpuList("0-3,8,10-11\n"), (std::vector<std::uint32_t>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parseCpuList("5"), (std::vector<std::uint32_t>{5}));
  EXPECT_TRUE(parseCpuList("").empty());
  EXPECT_TRUE(parseCpuList("3-1").empty()) << "a backwards range is malformed";
  EXPECT_TRUE(parseCpuList("x").empty());
}

TEST(ProcParsers, KibFieldsPerNodeAndGlobal) {
  const char* nodeMeminfo = "Node 0 MemTotal:        5728460 kB\nNode 0 MemFree:         5064864 kB\n";
  EXPECT_EQ(findKibField(nodeMeminfo, "MemTotal"), 5728460ULL * 1024);
  EXPECT_EQ(findKibField(nodeMeminfo, "MemFree"), 5064864ULL * 1024);
  EXPECT_EQ(findKibField("Hugepagesize:       2048 kB\n", "Hugepagesize"), 2 * MiB);
  EXPECT_FALSE(findKibField("HugePages_Total: 3\n", "Total").has_value()) << "keys match whole words only";
  EXPECT_EQ(findKibField("HugePages_Total: 3\n", "HugePages_Total"), 3U) << "counts have no unit";
}

TEST(ProcParsers, EffectiveCapabilityBits) {
  EXPECT_TRUE(hasEffectiveCapability("CapInh:\t0\nCapEff:\t000001ffffffffff\n", 14));
  EXPECT_FALSE(hasEffectiveCapability("CapEff:\t0000000000000000\n", 14));
  EXPECT_TRUE(hasEffectiveCapability("CapEff:\t0000000000004000\n", 14));
}

TEST(ProcParsers, CpuFlagIsAWholeWord) {
  const char* cpuinfo = "processor\t: 0\nflags\t\t: fpu vme pdpe1gb rdtscp lm\n";
  EXPECT_TRUE(cpuHasFlag(cpuinfo, "pdpe1gb"));
  EXPECT_FALSE(cpuHasFlag(cpuinfo, "pdpe1"));
  EXPECT_FALSE(cpuHasFlag("flags\t\t: fpu vme\n", "pdpe1gb"));
}

// Three areas: hugetlb 2 MiB pages, a THP area, and an area that only half lies in the range.
constexpr const char* kSmaps =
    "7f0000000000-7f0000400000 rw-p 00000000 00:0f 1234 /anon_hugepage (deleted)\n"
    "Size:               4096 kB\n"
    "KernelPageSize:     2048 kB\n"
    "Rss:                   0 kB\n"
    "Private_Hugetlb:    4096 kB\n"
    "Locked:                0 kB\n"
    "7f0000400000-7f0000c00000 rw-p 00000000 00:00 0 \n"
    "Size:               8192 kB\n"
    "KernelPageSize:        4 kB\n"
    "Rss:                8192 kB\n"
    "AnonHugePages:      6144 kB\n"
    "Locked:             8192 kB\n"
    "VmFlags: rd wr mr mw me ac hg\n"
    "7f0000c00000-7f0001000000 rw-p 00000000 00:00 0 \n"
    "KernelPageSize:        4 kB\n"
    "Rss:                4096 kB\n"
    "AnonHugePages:         0 kB\n";
constexpr const char* kNumaMaps =
    "7f0000000000 bind:1 file=/anon_hugepage\\040(deleted) huge dirty=2 N1=2 kernelpagesize_kB=2048\n"
    "7f0000400000 bind:1 anon=2048 dirty=2048 N1=2048 kernelpagesize_kB=4\n"
    "7f0000c00000 default anon=1024 dirty=1024 N0=512 N1=512 kernelpagesize_kB=4\n";

TEST(ProcParsers, SmapsAreasAndFields) {
  auto areas = parseSmaps(kSmaps);
  ASSERT_EQ(areas.size(), 3U);
  EXPECT_EQ(areas[0].start, 0x7f0000000000U);
  EXPECT_EQ(areas[0].kernelPageSize, 2 * MiB);
  EXPECT_EQ(areas[0].hugetlbResident, 4 * MiB);
  EXPECT_EQ(areas[1].anonHugePages, 6 * MiB);
  EXPECT_EQ(areas[1].locked, 8 * MiB);
}

TEST(ProcParsers, RangeSummaryScalesPartlyCoveredAreas) {
  auto smaps = parseSmaps(kSmaps);
  auto numa = parseNumaMaps(kNumaMaps);
  ASSERT_EQ(numa.size(), 3U);
  EXPECT_EQ(numa[0].kernelPageSize, 2 * MiB);
  // The whole of the first two areas and half of the third.
  auto usage = summarizeRange(smaps, numa, 0x7f0000000000U, 0x7f0000e00000U, 4096);
  EXPECT_EQ(usage.length, 14 * MiB);
  EXPECT_EQ(usage.hugeTlbBytes, 4 * MiB);
  EXPECT_EQ(usage.bytesByPageSize[2 * MiB], 4 * MiB);
  EXPECT_EQ(usage.bytesByPageSize[4096], 10 * MiB);
  EXPECT_EQ(usage.thpBytes, 6 * MiB);
  EXPECT_EQ(usage.lockedBytes, 8 * MiB);
  EXPECT_EQ(usage.residentBytes, 4 * MiB + 8 * MiB + 2 * MiB);
  EXPECT_EQ(usage.bytesByNode[1], 4 * MiB + 8 * MiB + 1 * MiB);
  EXPECT_EQ(usage.bytesByNode[0], 1 * MiB);
}

// Synthetic pagemap and kpageflags words for one 2 MiB block of 4 KiB pages.
struct Block {
  static constexpr std::size_t kPages = 512;
  static constexpr std::uint64_t kFirstFrame = 0x40000;  // 2 MiB-aligned: a multiple of 512
  std::vector<std::uint64_t> entries;
  std::vector<std::uint64_t> flags;  // frames kFirstFrame .. kFirstFrame + 512 (one past the block)

  // A PMD-mapped THP: one 512-page folio, physically aligned, mapped in order.
  Block() : entries(kPages), flags(kPages + 1) {
    using namespace page_bits;
    for (std::size_t page = 0; page < kPages; ++page) {
      entries[page] = kPresent | (kFirstFrame + page);
      flags[page] = kThp | (page == 0 ? kCompoundHead : kCompoundTail);
    }
    flags[kPages] = 0;  // the next frame is not part of the folio
  }
  bool judged() const { return isPmdMappedThp(entries, flags); }
};

TEST(ProcParsers, APmdMappedThpIsOneAlignedFolioMappedInOrder) {
  EXPECT_TRUE(Block().judged());
  Block lastFrameOfMemory;
  lastFrameOfMemory.flags.pop_back();
  EXPECT_TRUE(lastFrameOfMemory.judged()) << "no frame after the block to read";
}

TEST(ProcParsers, MultiSizeThpIsNotAPmdMappedThp) {
  Block mthp;  // 64 KiB folios: 16 pages each, every one marked THP
  for (std::size_t page = 0; page < Block::kPages; ++page)
    mthp.flags[page] = page_bits::kThp | (page % 16 == 0 ? page_bits::kCompoundHead : page_bits::kCompoundTail);
  EXPECT_FALSE(mthp.judged());
}

TEST(ProcParsers, APteMappedThpIsNotAPmdMappedThp) {
  Block shifted;  // a 2 MiB folio mapped by PTEs one page off its alignment
  for (std::size_t page = 0; page < Block::kPages; ++page) shifted.entries[page] += 1;
  shifted.flags.assign(Block::kPages + 1, page_bits::kThp | page_bits::kCompoundTail);
  shifted.flags[Block::kPages - 1] = 0;
  EXPECT_FALSE(shifted.judged());

  Block partly;  // half of the block unmapped (or swapped) after a split
  for (std::size_t page = Block::kPages / 2; page < Block::kPages; ++page) partly.entries[page] = 0;
  EXPECT_FALSE(partly.judged());

  Block shuffled;  // the folio's pages, but not in order
  std::swap(shuffled.entries[3], shuffled.entries[4]);
  EXPECT_FALSE(shuffled.judged());

  Block larger;  // the folio goes on past the block
  larger.flags[Block::kPages] = page_bits::kThp | page_bits::kCompoundTail;
  EXPECT_FALSE(larger.judged());
}

TEST(ProcParsers, BasePagesAndTheHugeZeroPageAreNotThp) {
  Block base;
  base.flags.assign(Block::kPages + 1, 0);
  EXPECT_FALSE(base.judged());
  Block zero;
  for (auto& word : zero.flags) word |= page_bits::kZeroPage;
  EXPECT_FALSE(zero.judged()) << "read faults of a THP area map the huge zero page, which smaps does not count";
  Block absent;
  absent.entries.assign(Block::kPages, 0);
  EXPECT_FALSE(absent.judged());
}

}  // namespace
}  // namespace xmem::os::linux_text
