// From what the kernel says of a process (os::ProcessUsage) to what an operator reads: each large
// mapping by page size and node, a green / yellow / red state, and the reason for anything that
// is not on huge pages. And the preload library's published records, read from outside.
#pragma once

#include <xmem/snapshot.h>

#include <string_view>
#include <vector>

namespace xmem::monitoring {

/// `usage` as ProcessStats, judged with the machine's THP mode. Mappings smaller than
/// `minMappingBytes` are left out of the list (status totals still count them).
ProcessStats processStats(const ProcessUsage& usage, const ThpInfo& thp, std::size_t minMappingBytes,
                          std::size_t basePageSize = 4 * KiB);

/// The share of `mapping` that lies in [begin, end), 0 to 1: the kernel counts per area, so an
/// area only partly inside a range is counted by that share.
double shareInside(const MappingUsage& mapping, std::uintptr_t begin, std::uintptr_t end) noexcept;

/// Each record's parts and nodes, measured from `usage`'s mappings over the record's range.
void measurePreloadRecords(std::vector<PreloadAllocationStats>& records, const ProcessUsage& usage, const ThpInfo& thp,
                           std::size_t basePageSize = 4 * KiB);

/// The records in a copy of the preload's published area (published_records.h); `again` is a
/// second copy read just after: a slot is kept only when both copies hold it whole and alike.
/// Empty when the bytes are not such an area.
std::vector<PreloadAllocationStats> parsePublishedRecords(std::string_view first, std::string_view again);

/// Health and reason of a share of huge pages: green from 99%, red at none.
Health healthOf(std::size_t hugeBytes, std::size_t residentBytes) noexcept;

}  // namespace xmem::monitoring
