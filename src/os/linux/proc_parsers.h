// Parsers for the text the Linux kernel publishes in /proc and /sys. Pure functions, so tests can
// feed them captured text.
#pragma once

#include <xmem/memory_facts.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xmem::os::linux_text {

/// "always [madvise] never" -> the bracketed word.
std::string_view selectedWord(std::string_view text) noexcept;
ThpMode parseThpMode(std::string_view text) noexcept;
/// "0-3,8,10-11" -> {0,1,2,3,8,10,11}. Empty on malformed input.
std::vector<std::uint32_t> parseCpuList(std::string_view text);
/// "10 21 31" -> {10, 21, 31}.
std::vector<std::uint32_t> parseNumbers(std::string_view text);
/// First unsigned integer in the text (after leading blanks), e.g. sysfs counters.
std::optional<std::uint64_t> parseUnsigned(std::string_view text) noexcept;
/// "Node 0 MemTotal:  24570284 kB" style: the value in bytes of the line whose key is `key`.
std::optional<std::uint64_t> findKibField(std::string_view text, std::string_view key) noexcept;
/// Whether /proc/self/status's CapEff has `capability` set.
bool hasEffectiveCapability(std::string_view status, unsigned capability) noexcept;
/// Whether /proc/cpuinfo's flags line lists `flag`.
bool cpuHasFlag(std::string_view cpuinfo, std::string_view flag) noexcept;

/// One area of /proc/self/smaps with the fields xmem reads (bytes).
struct SmapsArea {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::size_t kernelPageSize = 0;
  std::size_t rss = 0;
  std::size_t anonHugePages = 0;
  std::size_t locked = 0;
  std::size_t hugetlbResident = 0;  ///< Private_Hugetlb + Shared_Hugetlb
};
std::vector<SmapsArea> parseSmaps(std::string_view text);

/// One line of /proc/self/numa_maps: resident pages per node of the area starting at `start`.
struct NumaMapsArea {
  std::uintptr_t start = 0;
  std::size_t kernelPageSize = 0;  ///< 0 when the line has no kernelpagesize_kB (no pages yet)
  bool huge = false;               ///< a hugetlb area ("huge")
  std::vector<std::pair<std::uint32_t, std::size_t>> pagesByNode;
};
std::vector<NumaMapsArea> parseNumaMaps(std::string_view text);

/// Every area of /proc/PID/smaps as a MappingUsage: the header line (addresses, permissions,
/// name) and the fields monitoring reads. bytesByNode stays empty (see attachNodes). An area
/// whose header cannot be read is skipped with its fields; unreadable fields are ignored.
std::vector<MappingUsage> parseSmapsMappings(std::string_view text);
/// Fill each mapping's bytesByNode from the numa_maps area that starts where it does (pages
/// times the area's page size: the hugetlb size for hugetlb areas). Mappings without a matching
/// area keep no nodes: the two files are read one after the other and the process may change.
void attachNodes(std::vector<MappingUsage>& mappings, const std::vector<NumaMapsArea>& numaMaps,
                 std::size_t basePageSize);

/// /proc/PID/status: Name, VmRSS, VmHWM, VmLck and HugetlbPages (mappings and pid left empty).
/// Fields missing (kernel threads have no Vm* lines) stay 0.
ProcessUsage parseProcessStatus(std::string_view text);
/// The thp_*, compact_* and htlb_* counters of /proc/vmstat.
std::map<std::string, std::uint64_t> parseVmstatCounters(std::string_view text);
/// /proc/buddyinfo: "Node 0, zone   Normal  1 2 3 ..." per line; malformed lines are skipped.
std::vector<BuddyZone> parseBuddyInfo(std::string_view text);

/// Combine both for [begin, end). Figures of an area only partly inside are scaled by the part
/// inside (the kernel counts per area, not per address).
RangeUsage summarizeRange(const std::vector<SmapsArea>& smaps, const std::vector<NumaMapsArea>& numaMaps,
                          std::uintptr_t begin, std::uintptr_t end, std::size_t basePageSize);

/// Bits of the 64-bit words of /proc/PID/pagemap and /proc/kpageflags that xmem reads
/// (Documentation/admin-guide/mm/pagemap.rst).
namespace page_bits {
inline constexpr std::uint64_t kPresent = 1ULL << 63;
inline constexpr std::uint64_t kSwapped = 1ULL << 62;
inline constexpr std::uint64_t kFrameMask = (1ULL << 55) - 1;  ///< 0 without CAP_SYS_ADMIN
inline constexpr std::uint64_t kCompoundHead = 1ULL << 15;      ///< KPF_COMPOUND_HEAD
inline constexpr std::uint64_t kCompoundTail = 1ULL << 16;      ///< KPF_COMPOUND_TAIL
inline constexpr std::uint64_t kThp = 1ULL << 22;               ///< KPF_THP: any large anonymous folio
inline constexpr std::uint64_t kZeroPage = 1ULL << 24;          ///< KPF_ZERO_PAGE (the huge zero page too)
}  // namespace page_bits

/// Whether one PMD-aligned block of virtual memory is a PMD-mapped transparent huge page.
/// `entries`: the block's pagemap words, one per base page (512 for 2 MiB of 4 KiB pages).
/// `frameFlags`: the kpageflags words of the frames from the first entry's frame on, one per
/// entry and, where the machine has it, one more (the frame after the block).
bool isPmdMappedThp(std::span<const std::uint64_t> entries, std::span<const std::uint64_t> frameFlags) noexcept;

}  // namespace xmem::os::linux_text
