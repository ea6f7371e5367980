#include "os/linux/proc_parsers.h"

#include <xmem/types.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

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

// Found writing tests/fuzz's sysfs_values target: "0-18446744073709551615" looped for ever (the id wrapped),
// a range to 2^32 filled memory, and "3,1" or "0-3,2" listed CPUs backwards or twice.
TEST(ProcParsers, CpuListsTheKernelCannotWriteAreMalformed) {
  EXPECT_TRUE(parseCpuList("0-18446744073709551615").empty());
  EXPECT_TRUE(parseCpuList("0-4294967296").empty());
  EXPECT_TRUE(parseCpuList("0-70000").empty()) << "past any id a kernel numbers";
  EXPECT_EQ(parseCpuList("0-8191").size(), 8192U) << "NR_CPUS' largest";
  EXPECT_TRUE(parseCpuList("3,1").empty()) << "backwards";
  EXPECT_TRUE(parseCpuList("0-3,2").empty()) << "twice";
  EXPECT_TRUE(parseCpuList("0-3x").empty()) << "trailing garbage";
  EXPECT_TRUE(parseCpuList("1,,2").empty());
  EXPECT_EQ(parseNumbers("10 4294967296 20"), (std::vector<std::uint32_t>{10})) << "a value past 32 bits ends the list";
}

TEST(ProcParsers, KibFieldsPerNodeAndGlobal) {
  const char* nodeMeminfo = "Node 0 MemTotal:        5728460 kB\nNode 0 MemFree:         5064864 kB\n";
  EXPECT_EQ(findKibField(nodeMeminfo, "MemTotal"), 5728460ULL * 1024);
  EXPECT_EQ(findKibField(nodeMeminfo, "MemFree"), 5064864ULL * 1024);
  EXPECT_EQ(findKibField("Hugepagesize:       2048 kB\n", "Hugepagesize"), 2 * MiB);
  EXPECT_FALSE(findKibField("HugePages_Total: 3\n", "Total").has_value()) << "keys match whole words only";
  EXPECT_EQ(findKibField("HugePages_Total: 3\n", "HugePages_Total"), 3U) << "counts have no unit";
  // Found beside the capability shift below: kB figures past 2^54 wrapped when made bytes.
  EXPECT_FALSE(findKibField("MemTotal: 18014398509481984 kB\n", "MemTotal").has_value());
}

TEST(ProcParsers, EffectiveCapabilityBits) {
  // Found by tests/fuzz (kernel_counters): a capability past CapEff's 64 bits shifted out of range
  // (undefined behaviour; on x86-64 the shift wrapped and answered for another bit).
  EXPECT_FALSE(hasEffectiveCapability("CapEff:\tffffffffffffffff\n", 69));
  EXPECT_TRUE(hasEffectiveCapability("CapEff:\tffffffffffffffff\n", 63));
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

// Captured from this machine's kernel (tests/unit/data/proc/README.md says what the process held).
std::string captured(const std::string& name) {
  std::ifstream file(std::string(XMEM_SOURCE_DIR) + "/tests/unit/data/proc/" + name);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(text.empty()) << "missing test data " << name;
  return text;
}

const MappingUsage* mappingAt(const std::vector<MappingUsage>& mappings, std::uintptr_t start) {
  auto found = std::find_if(mappings.begin(), mappings.end(), [&](const auto& m) { return m.start == start; });
  return found == mappings.end() ? nullptr : &*found;
}

std::size_t linesStartingWith(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) if (line.starts_with(prefix)) ++count;
  return count;
}

constexpr std::uintptr_t kOneGbArea = 0x7f1300000000;
constexpr std::uintptr_t kThpArea = 0x7f1363e00000;
constexpr std::uintptr_t kTwoMbArea = 0x7f1364800000;
constexpr std::uintptr_t kNoHugeArea = 0x7f1364a3e000;

TEST(ProcParsers, CapturedSmapsGiveEveryAreaWithItsHeader) {
  const auto text = captured("hugetlb-thp-smaps.txt");
  const auto mappings = parseSmapsMappings(text);
  EXPECT_EQ(mappings.size(), linesStartingWith(text, "VmFlags:")) << "one VmFlags line per area";
  const auto* heap = mappingAt(mappings, 0x558f9afe6000);
  ASSERT_NE(heap, nullptr);
  EXPECT_EQ(heap->name, "[heap]");
  EXPECT_EQ(heap->permissions, "rw-p");
  EXPECT_EQ(heap->size(), 132 * KiB);
  EXPECT_EQ(heap->residentBytes, 24 * KiB);
  const auto* libc = mappingAt(mappings, 0x7f1364c1e000);
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->name, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(libc->permissions, "r--p");
  EXPECT_EQ(mappings.back().name, "[vsyscall]");
}

TEST(ProcParsers, CapturedHugetlbAreas) {
  const auto mappings = parseSmapsMappings(captured("hugetlb-thp-smaps.txt"));
  const auto* oneGb = mappingAt(mappings, kOneGbArea);
  ASSERT_NE(oneGb, nullptr);
  EXPECT_EQ(oneGb->size(), 1 * GiB);
  EXPECT_EQ(oneGb->name, "/anon_hugepage (deleted)") << "the name keeps its space";
  EXPECT_EQ(oneGb->kernelPageSize, 1 * GiB);
  EXPECT_EQ(oneGb->hugeTlbBytes, 1 * GiB);
  EXPECT_EQ(oneGb->residentBytes, 1 * GiB) << "Rss is 0 for hugetlb: resident is the hugetlb bytes";
  EXPECT_EQ(oneGb->anonHugePages, 0U);
  EXPECT_FALSE(oneGb->thpEligible);
  EXPECT_FALSE(oneGb->thpAdvised);
  const auto* twoMb = mappingAt(mappings, kTwoMbArea);
  ASSERT_NE(twoMb, nullptr);
  EXPECT_EQ(twoMb->size(), 2 * MiB);
  EXPECT_EQ(twoMb->kernelPageSize, 2 * MiB);
  EXPECT_EQ(twoMb->hugeTlbBytes, 2 * MiB);
}

TEST(ProcParsers, CapturedThpAndNoHugePageAreas) {
  const auto mappings = parseSmapsMappings(captured("hugetlb-thp-smaps.txt"));
  const auto* thp = mappingAt(mappings, kThpArea);
  ASSERT_NE(thp, nullptr);
  EXPECT_EQ(thp->size(), 8 * MiB);
  EXPECT_EQ(thp->name, "");
  EXPECT_EQ(thp->kernelPageSize, 4 * KiB);
  EXPECT_EQ(thp->anonHugePages, 8 * MiB);
  EXPECT_EQ(thp->residentBytes, 8 * MiB);
  EXPECT_EQ(thp->hugeTlbBytes, 0U);
  EXPECT_TRUE(thp->thpEligible);
  EXPECT_TRUE(thp->thpAdvised);
  EXPECT_FALSE(thp->thpRefused);
  const auto* small = mappingAt(mappings, kNoHugeArea);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->size(), 1 * MiB);
  EXPECT_EQ(small->residentBytes, 1 * MiB);
  EXPECT_EQ(small->anonHugePages, 0U);
  EXPECT_FALSE(small->thpEligible);
  EXPECT_FALSE(small->thpAdvised);
  EXPECT_TRUE(small->thpRefused);
}

TEST(ProcParsers, CapturedNumaMapsJoinedByStartAddress) {
  auto mappings = parseSmapsMappings(captured("hugetlb-thp-smaps.txt"));
  const auto numaMaps = parseNumaMaps(captured("hugetlb-thp-numa_maps.txt"));
  const auto hugeAreas = std::count_if(numaMaps.begin(), numaMaps.end(), [](const auto& area) { return area.huge; });
  EXPECT_EQ(hugeAreas, 2) << "the two hugetlb areas say 'huge'";
  attachNodes(mappings, numaMaps, 4 * KiB);
  using Nodes = std::map<std::uint32_t, std::size_t>;
  EXPECT_EQ(mappingAt(mappings, kOneGbArea)->bytesByNode, (Nodes{{0, 1 * GiB}})) << "N0=1 of 1 GiB pages";
  EXPECT_EQ(mappingAt(mappings, kTwoMbArea)->bytesByNode, (Nodes{{0, 2 * MiB}}));
  EXPECT_EQ(mappingAt(mappings, kThpArea)->bytesByNode, (Nodes{{0, 8 * MiB}}));
  EXPECT_EQ(mappingAt(mappings, kNoHugeArea)->bytesByNode, (Nodes{{0, 1 * MiB}}));
  EXPECT_TRUE(mappingAt(mappings, 0x7f1364600000)->bytesByNode.empty()) << "an untouched area has no pages";
}

TEST(ProcParsers, NodesOfSeveralNodesAndMissingAreas) {
  std::vector<MappingUsage> mappings(3);
  mappings[0].start = 0x1000;
  mappings[0].kernelPageSize = 2 * MiB;
  mappings[1].start = 0x2000;
  mappings[1].kernelPageSize = 4 * KiB;
  mappings[2].start = 0x3000;
  mappings[2].bytesByNode[7] = 1;  // stale: replaced
  // Out of order, and the second has no kernelpagesize_kB: the mapping's own page size counts.
  const auto numaMaps = parseNumaMaps(
      "2000 default anon=3 N1=3\n"
      "1000 bind:0-1 file=/anon_hugepage\\040(deleted) huge dirty=3 N0=1 N1=2 kernelpagesize_kB=2048\n");
  attachNodes(mappings, numaMaps, 4 * KiB);
  using Nodes = std::map<std::uint32_t, std::size_t>;
  EXPECT_EQ(mappings[0].bytesByNode, (Nodes{{0, 2 * MiB}, {1, 4 * MiB}}));
  EXPECT_EQ(mappings[1].bytesByNode, (Nodes{{1, 12 * KiB}}));
  EXPECT_TRUE(mappings[2].bytesByNode.empty()) << "no numa_maps line: no nodes";
}

TEST(ProcParsers, CapturedProcessStatus) {
  const auto usage = parseProcessStatus(captured("hugetlb-thp-status.txt"));
  EXPECT_EQ(usage.command, "capture");
  EXPECT_EQ(usage.residentBytes, 12516 * KiB);
  EXPECT_EQ(usage.peakResidentBytes, 12516 * KiB);
  EXPECT_EQ(usage.lockedBytes, 0U);
  EXPECT_EQ(usage.hugeTlbBytes, 1 * GiB + 2 * MiB);
  EXPECT_TRUE(usage.mappings.empty());
  // A kernel thread's status has no Vm* lines.
  const auto thread = parseProcessStatus("Name:\tkworker/0:1-events\nUmask:\t0000\nState:\tI (idle)\n");
  EXPECT_EQ(thread.command, "kworker/0:1-events");
  EXPECT_EQ(thread.residentBytes, 0U);
}

TEST(ProcParsers, CapturedVmstatKeepsThpCompactionAndHugetlbCounters) {
  const auto text = captured("vmstat.txt");
  const auto counters = parseVmstatCounters(text);
  EXPECT_EQ(counters.size(),
            linesStartingWith(text, "thp_") + linesStartingWith(text, "compact_") + linesStartingWith(text, "htlb_"));
  for (const char* name : {"thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "compact_stall",
                           "compact_fail", "compact_success", "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail"})
    EXPECT_TRUE(counters.contains(name)) << name;
  EXPECT_FALSE(counters.contains("nr_free_pages"));
  EXPECT_FALSE(counters.contains("pgfault"));
  const auto odd = parseVmstatCounters("thp_fault_alloc 12\nthp_split_page\ncompact_stall x\nhtlb_buddy_alloc_fail 3x\n"
                                       "compact_fail 18446744073709551615\n");
  EXPECT_EQ(odd, (std::map<std::string, std::uint64_t>{{"thp_fault_alloc", 12}, {"compact_fail", ~0ULL}}));
}

TEST(ProcParsers, CapturedBuddyInfo) {
  const auto zones = parseBuddyInfo(captured("buddyinfo.txt"));
  ASSERT_EQ(zones.size(), 3U);
  EXPECT_EQ(zones[0].node, 0U);
  EXPECT_EQ(zones[0].zone, "DMA");
  EXPECT_EQ(zones[1].zone, "DMA32");
  EXPECT_EQ(zones[2].zone, "Normal");
  for (const auto& zone : zones) EXPECT_EQ(zone.freeBlocksByOrder.size(), 11U) << zone.zone << ": orders 0 to 10";
  EXPECT_EQ(zones[0].freeBlocksByOrder[10], 3U);
}

TEST(ProcParsers, BuddyInfoSkipsWhatItCannotRead) {
  const auto zones = parseBuddyInfo(
      "Node 1, zone   Normal      4      5\n"
      "Node x, zone   Normal      1\n"
      "Node 2 zone Normal 1\n"
      "Node 3, zone   Normal      1     2x      3\n"
      "Node 4, zone  Movable\n"
      "Node 5, area Normal 1\n"
      "garbage\n"
      "\n"
      "Node 6, zone      DMA      0      7");
  ASSERT_EQ(zones.size(), 2U);
  EXPECT_EQ(zones[0].node, 1U);
  EXPECT_EQ(zones[0].freeBlocksByOrder, (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(zones[1].node, 6U);
  EXPECT_EQ(zones[1].freeBlocksByOrder, (std::vector<std::uint64_t>{0, 7})) << "the last line needs no newline";
}

// [anon:NAME] is what PR_SET_VMA_ANON_NAME gives (this machine's kernel lacks it, so the line is
// written here in the kernel's format, Documentation/filesystems/proc.rst).
TEST(ProcParsers, SmapsNamesAndMalformedAreas) {
  const auto mappings = parseSmapsMappings(
      "Rss:                   4 kB\n"                                          // before any area: ignored
      "7f0000000000-7f0000200000 rw-p 00000000 00:00 0    [anon:xmem:pool 0]\n"
      "Rss:                  lots kB\n"
      "Locked:                8 kB\n"
      "VmFlags:\n"
      "zzzz-7f0000400000 rw-p 00000000 00:00 0\n"                               // bad start: skipped ...
      "Rss:                 512 kB\n"                                          // ... with its fields
      "7f0000600000-7f0000400000 rw-p 00000000 00:00 0\n"                       // end before start
      "7f0000600000-7f0000800000 rw-p\n"                                       // truncated header
      "7f0000800000-7f0000a00000 r-xp 00001000 08:01 42  /opt/my tools/lib (deleted)\n"
      "KernelPageSize:        4 kB\n"
      "THPeligible:    1\n");
  ASSERT_EQ(mappings.size(), 2U);
  EXPECT_EQ(mappings[0].name, "[anon:xmem:pool 0]");
  EXPECT_EQ(mappings[0].residentBytes, 0U) << "an unreadable value is ignored";
  EXPECT_EQ(mappings[0].lockedBytes, 8 * KiB);
  EXPECT_EQ(mappings[1].name, "/opt/my tools/lib (deleted)");
  EXPECT_EQ(mappings[1].permissions, "r-xp");
  EXPECT_TRUE(mappings[1].thpEligible);
  EXPECT_EQ(mappings[1].residentBytes, 0U) << "the skipped area's Rss went nowhere";
}

TEST(ProcParsers, TruncatedCapturesNeverCrash) {
  const auto smaps = captured("hugetlb-thp-smaps.txt");
  const auto numa = captured("hugetlb-thp-numa_maps.txt");
  const auto full = parseSmapsMappings(smaps).size();
  for (std::size_t cut = 0; cut < smaps.size(); cut += 97) {
    auto mappings = parseSmapsMappings(std::string_view(smaps).substr(0, cut));
    EXPECT_LE(mappings.size(), full);
    attachNodes(mappings, parseNumaMaps(std::string_view(numa).substr(0, cut % numa.size())), 4 * KiB);
    parseProcessStatus(std::string_view(smaps).substr(cut));
    parseBuddyInfo(std::string_view(smaps).substr(cut));
  }
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>((i * 131 + 7) % 256));
  EXPECT_NO_FATAL_FAILURE(parseSmapsMappings(noise));
  EXPECT_TRUE(parseBuddyInfo(noise).empty());
  EXPECT_TRUE(parseVmstatCounters(noise).empty());
}

}  // namespace
}  // namespace xmem::os::linux_text
