// Memory xmem did not allocate: where a range is now (node and page size, part by part), turning
// it into huge pages in place, and moving it to another node.
#pragma once

#include <xmem/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

/// A run of pages with the same node, kind and size.
struct PagePart {
  std::size_t offset = 0;  ///< from the start of the range asked about
  std::size_t length = 0;
  std::optional<std::uint32_t> node;  ///< none: not in memory now (never touched, or swapped out)
  PageKind kind = PageKind::Base;     ///< HugeTlb, Transparent (a THP now) or Base; Base when not in memory
  std::size_t pageSize = 0;
  bool mapped = true;                 ///< false: no mapping there at all
};

struct RangeMap {
  std::size_t length = 0;
  std::vector<PagePart> parts;  ///< in address order, covering the whole range
  /// THP located page by page (PAGEMAP_SCAN, Linux 6.7+, or /proc/kpageflags as root). When
  /// false, THP cannot be placed inside an area: parts say Base, and thpBytesEstimate has the
  /// kernel's per-area figure, scaled to the part of the area inside the range.
  bool exact = true;
  std::size_t thpBytesEstimate = 0;

  std::size_t residentBytes() const noexcept;
  std::size_t bytesOf(PageKind kind) const noexcept;  ///< resident bytes of the kind
  std::map<std::uint32_t, std::size_t> bytesByNode() const;
  /// e.g. "64 MiB: 60 MiB THP + 4 MiB 4 KiB pages, node 0 64 MiB".
  std::string summary() const;
};

/// Which node and page size each part of [address, address + length) is on right now.
/// Throws Error when the kernel cannot be asked.
RangeMap where(const void* address, std::size_t length);

struct PromoteResult {
  std::size_t eligibleBytes = 0;   ///< whole 2 MiB blocks of the range outside hugetlb areas
  std::size_t hugeBefore = 0;      ///< of those, on huge pages before (THP)
  std::size_t hugeAfter = 0;
  bool collapsed = false;          ///< MADV_COLLAPSE ran (Linux 6.1+)
  bool deferred = false;           ///< only advised: khugepaged will collapse the range later
  unsigned retries = 0;            ///< EAGAIN retries
  std::string message;             ///< what happened, for people
};

/// Turn [address, address + length) into transparent huge pages in place: MADV_HUGEPAGE, then
/// MADV_COLLAPSE where the kernel has it (retried on EAGAIN), else a report that khugepaged will
/// do it later. Only whole 2 MiB blocks can become huge; hugetlb areas are huge already.
PromoteResult promote(void* address, std::size_t length);

struct MigrateResult {
  std::uint32_t node = 0;
  std::size_t pages = 0;         ///< pages in memory in the range (each huge page counts once)
  std::size_t moved = 0;
  std::size_t alreadyThere = 0;
  std::size_t notPresent = 0;    ///< not in memory: nothing to move (they fault in per policy)
  std::map<std::string, std::size_t> failedByReason;  ///< pages the kernel could not move: "busy", "node full", ...
  std::size_t bytesMoved = 0;
  std::string message;

  std::size_t failed() const noexcept;
};

/// Move the pages of [address, address + length) that are in memory to `node` (move_pages,
/// pages mapped by this process only). Throws Error for a node the machine does not have.
MigrateResult migrate(void* address, std::size_t length, std::uint32_t node);

}  // namespace xmem
