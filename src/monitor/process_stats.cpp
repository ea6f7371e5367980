#include "monitor/process_stats.h"

#include "monitor/published_records.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace xmem::monitoring {
namespace {

// Only anonymous memory and hugetlb can be on huge pages for a program's data: file mappings
// (its code, its libraries) are page cache, judged by no one here.
bool holdsData(const MappingUsage& mapping) {
  if (mapping.hugeTlbBytes != 0 || mapping.name.empty()) return true;
  const std::string_view name = mapping.name;
  if (name.starts_with(std::string("/memfd:") + published::kPublishedRecordsName)) return false;  // the preload's own records
  return name.starts_with("[heap]") || name.starts_with("[anon:") || name.starts_with("/anon_hugepage") ||
         name.starts_with("/memfd:") || name.starts_with("/SYSV");
}

bool isHugeTlb(const MappingUsage& mapping, std::size_t basePageSize) {
  return mapping.hugeTlbBytes != 0 || mapping.kernelPageSize > basePageSize;
}

std::string mib(std::size_t bytes) { return formatBytes(bytes); }

// Why an anonymous mapping's resident memory is not (all) on transparent huge pages.
std::string whyNotHuge(const MappingUsage& mapping, const ThpInfo& thp) {
  if (thp.mode == ThpMode::Unsupported) return "the kernel has no transparent huge pages, and no hugetlb pages back it";
  if (thp.mode == ThpMode::Never) return "transparent huge pages are off (never), and no hugetlb pages back it";
  if (mapping.thpRefused) return "the program turned THP off for it (MADV_NOHUGEPAGE)";
  if (thp.mode == ThpMode::Madvise && !mapping.thpAdvised)
    return "THP is madvise-only and the program did not ask for it (no MADV_HUGEPAGE; `xmem run` asks for its large allocations)";
  if (!mapping.thpEligible) return "the kernel will not use THP here (too small, unaligned, or a kind it cannot back)";
  return mib(mapping.anonHugePages) + " of " + mib(mapping.residentBytes) +
         " resident is huge: no free 2 MiB block was at hand when it was touched (see the fragmentation figures); "
         "khugepaged may collapse it later";
}

ProcessMappingStats mappingStats(const MappingUsage& mapping, const ThpInfo& thp, std::size_t basePageSize) {
  ProcessMappingStats out;
  out.start = mapping.start;
  out.end = mapping.end;
  out.name = mapping.name;
  out.sizeBytes = mapping.size();
  out.lockedBytes = mapping.lockedBytes;
  out.bytesByNode = mapping.bytesByNode;
  if (isHugeTlb(mapping, basePageSize)) {
    out.residentBytes = std::max(mapping.hugeTlbBytes, mapping.residentBytes);
    if (out.residentBytes != 0) out.parts.push_back({Backing::HugeTlb, mapping.kernelPageSize, out.residentBytes});
    return out;  // green: reserved pages, nothing to explain
  }
  out.residentBytes = mapping.residentBytes;
  const std::size_t thpBytes = std::min(mapping.anonHugePages, mapping.residentBytes);
  if (thpBytes != 0) out.parts.push_back({Backing::Transparent, thp.pmdSize != 0 ? thp.pmdSize : 2 * MiB, thpBytes});
  if (out.residentBytes > thpBytes) out.parts.push_back({Backing::Base, basePageSize, out.residentBytes - thpBytes});
  if (!holdsData(mapping)) return out;
  out.health = healthOf(thpBytes, out.residentBytes);
  if (out.health != Health::Green) out.reason = whyNotHuge(mapping, thp);
  return out;
}

void addParts(std::vector<BackedBytes>& total, const std::vector<BackedBytes>& parts) {
  for (const auto& part : parts) {
    auto same = std::find_if(total.begin(), total.end(), [&](const BackedBytes& known) {
      return known.backing == part.backing && known.pageSize == part.pageSize;
    });
    if (same != total.end()) same->bytes += part.bytes;
    else total.push_back(part);
  }
}

}  // namespace

Health healthOf(std::size_t hugeBytes, std::size_t residentBytes) noexcept {
  if (residentBytes == 0 || hugeBytes * 100 >= residentBytes * 99) return Health::Green;
  return hugeBytes == 0 ? Health::Red : Health::Yellow;
}

ProcessStats processStats(const ProcessUsage& usage, const ThpInfo& thp, std::size_t minMappingBytes,
                          std::size_t basePageSize) {
  const std::size_t kBasePage = basePageSize != 0 ? basePageSize : 4 * KiB;
  ProcessStats out;
  out.pid = usage.pid;
  out.command = usage.command;
  out.residentBytes = usage.residentBytes;
  out.peakResidentBytes = usage.peakResidentBytes;
  out.lockedBytes = usage.lockedBytes;
  out.hugeTlbBytes = usage.hugeTlbBytes;
  std::size_t hugeBytes = 0;
  std::size_t dataBytes = 0;
  for (const auto& mapping : usage.mappings) {
    if (mapping.size() < minMappingBytes) continue;
    out.mappings.push_back(mappingStats(mapping, thp, kBasePage));
    const auto& stats = out.mappings.back();
    if (!holdsData(mapping)) continue;  // its code and files: page cache, not in the share of huge
    addParts(out.parts, stats.parts);
    dataBytes += stats.residentBytes;
    for (const auto& part : stats.parts)
      if (part.backing != Backing::Base) hugeBytes += part.bytes;
  }
  out.health = healthOf(hugeBytes, dataBytes);
  if (out.health != Health::Green) {
    const ProcessMappingStats* biggest = nullptr;
    for (const auto& stats : out.mappings)
      if (stats.health != Health::Green && (biggest == nullptr || stats.residentBytes > biggest->residentBytes)) biggest = &stats;
    out.reason = mib(hugeBytes) + " of " + mib(dataBytes) + " of its large data mappings is on huge pages";
    if (biggest != nullptr) out.reason += "; the largest other one (" + mib(biggest->residentBytes) + "): " + biggest->reason;
  }
  return out;
}

double shareInside(const MappingUsage& mapping, std::uintptr_t begin, std::uintptr_t end) noexcept {
  const auto from = std::max(begin, mapping.start);
  const auto to = std::min(end, mapping.end);
  if (from >= to || mapping.size() == 0) return 0;
  return static_cast<double>(to - from) / static_cast<double>(mapping.size());
}

void measurePreloadRecords(std::vector<PreloadAllocationStats>& records, const ProcessUsage& usage, const ThpInfo& thp,
                           std::size_t basePageSize) {
  for (auto& record : records) {
    record.parts.clear();
    record.bytesByNode.clear();
    const std::uintptr_t begin = record.address;
    const std::uintptr_t end = record.address + record.mappedBytes;
    for (const auto& mapping : usage.mappings) {
      const double share = shareInside(mapping, begin, end);
      if (share == 0) continue;
      auto part = mappingStats(mapping, thp, basePageSize != 0 ? basePageSize : 4 * KiB);
      for (auto& backed : part.parts) backed.bytes = static_cast<std::size_t>(static_cast<double>(backed.bytes) * share);
      addParts(record.parts, part.parts);
      for (const auto& [node, bytes] : mapping.bytesByNode)
        record.bytesByNode[node] += static_cast<std::size_t>(static_cast<double>(bytes) * share);
    }
  }
}

namespace {

bool wholeSlot(const published::Slot& slot) { return slot.sequence.load(std::memory_order_relaxed) % 2 == 0; }

}  // namespace

std::vector<PreloadAllocationStats> parsePublishedRecords(std::string_view first, std::string_view again) {
  std::vector<PreloadAllocationStats> out;
  published::Header header{};
  if (first.size() < sizeof(header) || again.size() < sizeof(header)) return out;
  std::memcpy(&header, first.data(), sizeof(header));
  if (std::memcmp(header.magic, published::kMagic, sizeof(header.magic)) != 0 ||
      header.version != published::kFormatVersion || header.slotSize != sizeof(published::Slot))
    return out;
  const std::size_t slots =
      std::min<std::size_t>(header.slotCount, (std::min(first.size(), again.size()) - sizeof(header)) / sizeof(published::Slot));
  for (std::size_t index = 0; index < slots; ++index) {
    const std::size_t offset = sizeof(header) + index * sizeof(published::Slot);
    published::Slot a;
    published::Slot b;
    std::memcpy(static_cast<void*>(&a), first.data() + offset, sizeof(a));
    std::memcpy(static_cast<void*>(&b), again.data() + offset, sizeof(b));
    if (a.address == 0 || !wholeSlot(a) || std::memcmp(static_cast<const void*>(&a), static_cast<const void*>(&b), sizeof(a)) != 0)
      continue;
    PreloadAllocationStats record;
    record.address = a.address;
    record.requestedBytes = a.requestedBytes;
    record.mappedBytes = a.mappedBytes;
    record.hugeTlbBytes = a.hugeTlbBytes;
    record.pageSize = a.pageSize;
    if (a.nodeAsked >= 0) record.nodeAsked = static_cast<std::uint32_t>(a.nodeAsked);
    record.locked = a.locked != 0;
    record.source.assign(a.source, strnlen(a.source, sizeof(a.source)));
    out.push_back(std::move(record));
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.address < y.address; });
  return out;
}

}  // namespace xmem::monitoring
