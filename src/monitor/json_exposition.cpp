// The snapshot as JSON, the documents of /api/v1 (docs/monitoring.md, "JSON"). Keys are written in
// a fixed order (ordered_json keeps the order they are set in), so one snapshot gives one text.
#include <xmem/error.h>
#include <xmem/exposition.h>

#include "monitor/exposition_values.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace xmem {
namespace {

using exposition::hex;
using exposition::seconds;
using exposition::unixSeconds;
using json = nlohmann::ordered_json;
using std::chrono::system_clock;

// RFC 3339 in UTC, with the fraction of a second only as long as it needs to be.
std::string rfc3339(system_clock::time_point at) {
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{std::chrono::floor<std::chrono::nanoseconds>(at - day)};
  char buffer[48];
  int length = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
                             static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                             static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                             static_cast<int>(time.seconds().count()));
  if (auto fraction = time.subseconds().count(); fraction != 0) {
    int digits = 9;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    length += std::snprintf(buffer + length, sizeof buffer - static_cast<std::size_t>(length), ".%0*lld", digits,
                            static_cast<long long>(fraction));
  }
  return std::string(buffer, static_cast<std::size_t>(length)) + 'Z';
}

// A time as both spellings: "<key>" (RFC 3339) and "<key>_unix_seconds".
void putTime(json& object, const std::string& key, system_clock::time_point at) {
  object[key] = rfc3339(at);
  object[key + "_unix_seconds"] = unixSeconds(at);
}

// `base` with the keys of `more` added after its own.
json with(json base, const json& more) {
  base.update(more);
  return base;
}

json optionalNode(const std::optional<std::uint32_t>& node) { return node ? json(*node) : json(nullptr); }
// The limit in bytes, or null when unlimited.
json limitBytes(std::uint64_t limit) { return limit == MemlockLimit::kUnlimited ? json(nullptr) : json(limit); }

json bytesByNode(const std::map<std::uint32_t, std::size_t>& bytes) {
  json out = json::array();
  for (const auto& [node, count] : bytes) out.push_back({{"node", node}, {"bytes", count}});
  return out;
}

json backed(const std::vector<BackedBytes>& parts) {
  json out = json::array();
  for (const auto& part : parts)
    out.push_back({{"backing", toString(part.backing)}, {"page_size", part.pageSize}, {"bytes", part.bytes}});
  return out;
}

json counts(const HugePageCounts& pages) {
  return {{"configured_pages", pages.total},      {"free_pages", pages.free},
          {"reserved_pages", pages.reserved},     {"surplus_pages", pages.surplus},
          {"overcommit_pages", pages.overcommit}, {"available_pages", pages.available()}};
}

json thp(const ThpInfo& info) {
  return {{"mode", toString(info.mode)}, {"defrag", info.defrag}, {"page_size", info.pmdSize}};
}

json memlock(const MemlockLimit& limit) {
  return {
      {"soft_bytes", limitBytes(limit.soft)}, {"hard_bytes", limitBytes(limit.hard)}, {"privileged", limit.privileged}};
}

json machine(const MachineFacts& facts) {
  json sizes = json::array();
  for (const auto& size : facts.hugePageSizes) {
    json nodes = json::array();
    for (const auto& [node, pages] : size.nodes) nodes.push_back(with({{"node", node}}, counts(pages)));
    sizes.push_back(with(with({{"page_size", size.pageSize}}, counts(size.counts)), {{"nodes", nodes}}));
  }
  json nodes = json::array();
  for (const auto& node : facts.nodes) {
    nodes.push_back({{"node", node.id},
                     {"cpus", node.cpus},
                     {"memory_total_bytes", node.memoryTotal},
                     {"memory_free_bytes", node.memoryFree},
                     {"distances", node.distances}});
  }
  return {{"platform", facts.platform},
          {"kernel", facts.kernel},
          {"base_page_size", facts.basePageSize},
          {"memory_total_bytes", facts.memoryTotal},
          {"memory_available_bytes", facts.memoryAvailable},
          {"default_huge_page_size", facts.defaultHugePageSize},
          {"huge_page_sizes", sizes},
          {"cpu_has_one_gb_pages", facts.cpuHasOneGbPages},
          {"thp", thp(facts.thp)},
          {"memlock", memlock(facts.memlock)},
          {"nodes", nodes},
          {"populate_reports_errors", facts.populateReportsErrors},
          {"named_mappings", facts.namedMappings}};
}

json pagePools(const std::vector<PagePoolStats>& pools) {
  json out = json::array();
  for (const auto& pool : pools) {
    const json where = {{"page_size", pool.pageSize}, {"node", optionalNode(pool.node)}};
    out.push_back(with(with(where, counts(pool.counts)), {{"added_by_xmem_pages", pool.addedByXmem},
                                                          {"count_before_xmem_pages", pool.countBeforeXmem},
                                                          {"restored_on_release", pool.restoredOnRelease}}));
  }
  return out;
}

json kernel(const KernelMemoryStats& stats) {
  json counters = json::object();
  for (const auto& [name, value] : stats.counters) counters[name] = value;
  json zones = json::array();
  for (const auto& zone : stats.fragmentation) {
    zones.push_back({{"node", zone.node},
                     {"zone", zone.zone},
                     {"free_blocks_by_order", zone.freeBlocksByOrder},
                     {"huge_page_blocks", zone.hugePageBlocks},
                     {"unusable_free_index", zone.unusableFreeIndex}});
  }
  return {{"thp", thp(stats.thp)},
          {"counters", counters},
          {"fragmentation", zones},
          {"one_gb_availability", stats.oneGbAvailability},
          {"memlock", memlock(stats.memlock)}};
}

json allocation(const AllocationStats& stats) {
  return {{"name", stats.name},
          {"address", hex(stats.address)},
          {"requested_bytes", stats.requestedBytes},
          {"mapped_bytes", stats.mappedBytes},
          {"parts", backed(stats.parts)},
          {"node_asked", optionalNode(stats.nodeAsked)},
          {"policy", toString(stats.policy)},
          {"bound", stats.bound},
          {"resident_bytes_by_node", bytesByNode(stats.residentBytesByNode)},
          {"locked", stats.locked},
          {"prefaulted", stats.prefaulted},
          {"from_pool", stats.fromPool},
          {"health", toString(stats.health)},
          {"reason", stats.reason}};
}

json pool(const PoolNodeStats& stats) {
  json failures = json::object();
  for (std::size_t kind = 0; kind < kPoolFailureKinds; ++kind)
    failures[std::string(toString(static_cast<PoolFailure>(kind)))] = stats.failures[kind];
  return {{"pool", stats.pool},
          {"node", stats.node},
          {"capacity_bytes", stats.capacityBytes},
          {"in_use_bytes", stats.inUseBytes},
          {"high_water_bytes", stats.highWaterBytes},
          {"free_bytes", stats.freeBytes},
          {"largest_free_block_bytes", stats.largestFreeBlockBytes},
          {"fragmentation", stats.fragmentation},
          {"huge_bytes", stats.hugeBytes},
          {"page_size", stats.pageSize},
          {"allocations", stats.allocations},
          {"releases", stats.releases},
          {"failures", failures},
          {"fallbacks_out", stats.fallbacksOut},
          {"fallbacks_in", stats.fallbacksIn}};
}

json mapping(const ProcessMappingStats& stats) {
  return {{"start", hex(stats.start)},
          {"end", hex(stats.end)},
          {"name", stats.name},
          {"size_bytes", stats.sizeBytes},
          {"resident_bytes", stats.residentBytes},
          {"parts", backed(stats.parts)},
          {"bytes_by_node", bytesByNode(stats.bytesByNode)},
          {"locked_bytes", stats.lockedBytes},
          {"health", toString(stats.health)},
          {"reason", stats.reason}};
}

json preloadAllocation(const PreloadAllocationStats& stats) {
  return {{"address", hex(stats.address)},
          {"requested_bytes", stats.requestedBytes},
          {"mapped_bytes", stats.mappedBytes},
          {"huge_tlb_bytes", stats.hugeTlbBytes},
          {"page_size", stats.pageSize},
          {"node_asked", optionalNode(stats.nodeAsked)},
          {"locked", stats.locked},
          {"source", stats.source},
          {"parts", backed(stats.parts)},
          {"bytes_by_node", bytesByNode(stats.bytesByNode)}};
}

json process(const ProcessStats& stats) {
  json mappings = json::array();
  for (const auto& one : stats.mappings) mappings.push_back(mapping(one));
  json preload = json::array();
  for (const auto& one : stats.preload) preload.push_back(preloadAllocation(one));
  return {{"pid", stats.pid},
          {"command", stats.command},
          {"resident_bytes", stats.residentBytes},
          {"peak_resident_bytes", stats.peakResidentBytes},
          {"locked_bytes", stats.lockedBytes},
          {"huge_tlb_bytes", stats.hugeTlbBytes},
          {"parts", backed(stats.parts)},
          {"mappings", mappings},
          {"under_preload", stats.underPreload},
          {"preload", preload},
          {"health", toString(stats.health)},
          {"reason", stats.reason},
          {"error", stats.error}};
}

json bandwidth(const Snapshot& snapshot) {
  if (!snapshot.bandwidth) return nullptr;
  const BandwidthMatrix& matrix = *snapshot.bandwidth;
  json figures = json::array();
  for (const auto& figure : matrix.figures) {
    figures.push_back({{"cpu_node", figure.cpuNode},
                       {"memory_node", figure.memoryNode},
                       {"kernel", figure.kernel},
                       {"best_bytes_per_second", figure.bestBytesPerSecond},
                       {"median_bytes_per_second", figure.medianBytesPerSecond},
                       {"buffer_bytes", figure.bufferBytes},
                       {"threads", figure.threads},
                       {"repetitions", figure.repetitions}});
  }
  json out = json::object();
  putTime(out, "measured_at", matrix.measuredAt);
  out["age_seconds"] = seconds(snapshot.takenAt - matrix.measuredAt);
  out["took_seconds"] = seconds(matrix.took);
  out["figures"] = figures;
  return out;
}

json randomx(const Snapshot& snapshot) {
  if (!snapshot.randomx) return nullptr;
  return {{"hashes_per_second", snapshot.randomx->hashesPerSecond},
          {"bytes_per_second", snapshot.randomx->bytesPerSecond}};
}

template <class Item, class Write>
json arrayOf(const std::vector<Item>& items, Write write) {
  json out = json::array();
  for (const auto& item : items) out.push_back(write(item));
  return out;
}

// What every part's document starts with.
json header(const Snapshot& snapshot) {
  json out = {{"schema_version", snapshot.schemaVersion}};
  putTime(out, "taken_at", snapshot.takenAt);
  out["took_seconds"] = seconds(snapshot.took);
  out["xmem_version"] = snapshot.xmemVersion;
  out["hostname"] = snapshot.hostname;
  return out;
}

}  // namespace

std::string toJson(const Snapshot& snapshot, SnapshotPart part, int indent) {
  if (part > SnapshotPart::Bandwidth) {
    throw Error(ErrorCode::InvalidArgument, "snapshot part " + std::to_string(static_cast<int>(part)) +
                                                " is not one of All, Machine, Allocations, Pools, Processes, Bandwidth");
  }
  const bool all = part == SnapshotPart::All;
  json out = header(snapshot);
  if (all || part == SnapshotPart::Machine) {
    out["machine"] = machine(snapshot.machine);
    out["page_pools"] = pagePools(snapshot.pagePools);
    out["kernel"] = kernel(snapshot.kernel);
  }
  if (all || part == SnapshotPart::Allocations) out["allocations"] = arrayOf(snapshot.allocations, allocation);
  if (all || part == SnapshotPart::Pools) out["pools"] = arrayOf(snapshot.pools, pool);
  if (all || part == SnapshotPart::Processes) {
    // null when the snapshot leaves the serving process out (MonitorOptions::includeSelf).
    out["self"] = snapshot.self.pid != 0 ? process(snapshot.self) : json(nullptr);
    out["processes"] = arrayOf(snapshot.processes, process);
  }
  if (all || part == SnapshotPart::Bandwidth) {
    out["bandwidth"] = bandwidth(snapshot);
    out["randomx"] = randomx(snapshot);
  }
  // Names and paths read from a process need not be UTF-8; a bad byte becomes U+FFFD, not an exception.
  return out.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace xmem
