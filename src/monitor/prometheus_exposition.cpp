// The snapshot as Prometheus text: each part of the snapshot is a table of metrics (name, type,
// help, how to read the value), written through the family builder of prometheus_writer.h.
// docs/monitoring.md ("Metrics") lists every family.
#include <xmem/exposition.h>

#include "monitor/exposition_values.h"
#include "monitor/prometheus_writer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace xmem {
namespace {

using exposition::hex;
using exposition::seconds;
using exposition::unixSeconds;
using prometheus::Exposition;
using prometheus::Labels;
using prometheus::MetricType;
using prometheus::Number;
constexpr MetricType kGauge = MetricType::Gauge;
constexpr MetricType kCounter = MetricType::Counter;

/// One row of a table: a family and how to read its value from a `Row`.
template <class Row>
struct Metric {
  std::string_view name;
  MetricType type;
  std::string_view help;
  Number (*value)(const Row&);
};

template <class Row, std::size_t N>
void addRows(Exposition& out, const std::array<Metric<Row>, N>& table, const Row& row, const Labels& labels) {
  for (const auto& metric : table) out.family(metric.name, metric.type, metric.help).add(labels, metric.value(row));
}

Number bytesOrInfinity(std::uint64_t limit) {
  if (limit == MemlockLimit::kUnlimited) return std::numeric_limits<double>::infinity();
  return limit;
}

const std::array<Metric<Snapshot>, 6> kSnapshotMetrics{{
    {"xmem_scrape_duration_seconds", kGauge, "How long taking the snapshot took.",
     [](const Snapshot& s) -> Number { return seconds(s.took); }},
    {"xmem_snapshot_timestamp_seconds", kGauge, "When the snapshot was taken (its age is time() minus this).",
     [](const Snapshot& s) -> Number { return unixSeconds(s.takenAt); }},
    {"xmem_snapshot_schema_version", kGauge, "The schema version of the snapshot (and of the JSON API).",
     [](const Snapshot& s) -> Number { return s.schemaVersion; }},
    {"xmem_memory_total_bytes", kGauge, "RAM the kernel manages.",
     [](const Snapshot& s) -> Number { return s.machine.memoryTotal; }},
    {"xmem_memory_available_bytes", kGauge, "Memory the kernel could hand out now.",
     [](const Snapshot& s) -> Number { return s.machine.memoryAvailable; }},
    {"xmem_base_page_size_bytes", kGauge, "The base page size.",
     [](const Snapshot& s) -> Number { return s.machine.basePageSize; }},
}};

const std::array<Metric<MachineFacts>, 4> kMachineMetrics{{
    {"xmem_default_huge_page_size_bytes", kGauge, "The kernel's default huge page size (0: no hugetlb support).",
     [](const MachineFacts& m) -> Number { return m.defaultHugePageSize; }},
    {"xmem_cpu_1gib_pages", kGauge, "1 when the CPU and kernel offer 1 GiB pages.",
     [](const MachineFacts& m) -> Number { return m.cpuHasOneGbPages; }},
    {"xmem_kernel_populate_reports_errors", kGauge,
     "1 when populating a mapping reports a missing huge page as an error.",
     [](const MachineFacts& m) -> Number { return m.populateReportsErrors; }},
    {"xmem_kernel_named_mappings", kGauge, "1 when mappings can be named.",
     [](const MachineFacts& m) -> Number { return m.namedMappings; }},
}};

const std::array<Metric<NumaNodeInfo>, 3> kNodeMetrics{{
    {"xmem_node_memory_total_bytes", kGauge, "RAM of the NUMA node.",
     [](const NumaNodeInfo& n) -> Number { return n.memoryTotal; }},
    {"xmem_node_memory_free_bytes", kGauge, "Free memory of the NUMA node.",
     [](const NumaNodeInfo& n) -> Number { return n.memoryFree; }},
    {"xmem_node_cpus", kGauge, "CPUs of the NUMA node.", [](const NumaNodeInfo& n) -> Number { return n.cpus.size(); }},
}};

const std::array<Metric<PagePoolStats>, 8> kHugePageMetrics{{
    {"hugepages_configured", kGauge, "Huge pages in the pool (nr_hugepages).",
     [](const PagePoolStats& p) -> Number { return p.counts.total; }},
    {"hugepages_free", kGauge, "Huge pages not faulted in yet (reserved ones included).",
     [](const PagePoolStats& p) -> Number { return p.counts.free; }},
    {"hugepages_surplus", kGauge, "Huge pages overcommitted beyond the pool.",
     [](const PagePoolStats& p) -> Number { return p.counts.surplus; }},
    {"hugepages_added_by_xmem", kGauge, "Huge pages xmem's reservations added to the pool.",
     [](const PagePoolStats& p) -> Number { return p.addedByXmem; }},
    {"hugepages_before_xmem", kGauge, "The pool's size before xmem first changed it.",
     [](const PagePoolStats& p) -> Number { return p.countBeforeXmem; }},
    {"hugepages_restored_on_release", kGauge, "1 when releasing puts the pool's size back.",
     [](const PagePoolStats& p) -> Number { return p.restoredOnRelease; }},
    // The kernel keeps these two system-wide only; per node they are always 0, so they are not written there.
    {"hugepages_reserved", kGauge, "Huge pages promised to mappings and not faulted in yet.",
     [](const PagePoolStats& p) -> Number { return p.counts.reserved; }},
    {"hugepages_overcommit", kGauge, "Surplus huge pages the kernel may add on demand (nr_overcommit_hugepages).",
     [](const PagePoolStats& p) -> Number { return p.counts.overcommit; }},
}};
constexpr std::size_t kPerNodeHugePageMetrics = 6;

const std::array<Metric<NodeFragmentation>, 2> kFragmentationMetrics{{
    {"xmem_node_hugepage_blocks_free", kGauge, "2 MiB pages the zone could give now without compaction.",
     [](const NodeFragmentation& f) -> Number { return f.hugePageBlocks; }},
    {"xmem_node_unusable_free_index_ratio", kGauge,
     "Share of the zone's free memory unusable for a 2 MiB page (0: none, 1: all).",
     [](const NodeFragmentation& f) -> Number { return f.unusableFreeIndex; }},
}};

const std::array<Metric<PoolNodeStats>, 10> kPoolMetrics{{
    {"xmem_pool_capacity_bytes", kGauge, "Bytes the pool holds on the node, in use or free.",
     [](const PoolNodeStats& p) -> Number { return p.capacityBytes; }},
    {"xmem_pool_in_use_bytes", kGauge, "Bytes of the pool handed out.",
     [](const PoolNodeStats& p) -> Number { return p.inUseBytes; }},
    {"xmem_pool_high_water_bytes", kGauge, "The most bytes of the pool ever in use at once.",
     [](const PoolNodeStats& p) -> Number { return p.highWaterBytes; }},
    {"xmem_pool_free_bytes", kGauge, "Bytes of the pool not in use.",
     [](const PoolNodeStats& p) -> Number { return p.freeBytes; }},
    {"xmem_pool_largest_free_block_bytes", kGauge, "The largest chunk the pool could hand out now without growing.",
     [](const PoolNodeStats& p) -> Number { return p.largestFreeBlockBytes; }},
    {"xmem_pool_fragmentation_ratio", kGauge, "1 - largest free block / free bytes (0 when nothing is free).",
     [](const PoolNodeStats& p) -> Number { return p.fragmentation; }},
    {"xmem_pool_huge_bytes", kGauge, "Bytes of the pool's capacity on huge pages.",
     [](const PoolNodeStats& p) -> Number { return p.hugeBytes; }},
    {"xmem_pool_page_size_bytes", kGauge, "The page size of the pool's first backing mapping.",
     [](const PoolNodeStats& p) -> Number { return p.pageSize; }},
    {"xmem_pool_allocations_total", kCounter, "Chunks the pool handed out.",
     [](const PoolNodeStats& p) -> Number { return p.allocations; }},
    {"xmem_pool_releases_total", kCounter, "Chunks given back to the pool.",
     [](const PoolNodeStats& p) -> Number { return p.releases; }},
}};

const std::array<Metric<ProcessStats>, 5> kProcessMetrics{{
    {"xmem_process_resident_bytes", kGauge, "Resident memory of the process (VmRSS).",
     [](const ProcessStats& p) -> Number { return p.residentBytes; }},
    {"xmem_process_peak_resident_bytes", kGauge, "The most resident memory the process had (VmHWM).",
     [](const ProcessStats& p) -> Number { return p.peakResidentBytes; }},
    {"xmem_process_locked_bytes", kGauge, "Locked memory of the process (VmLck).",
     [](const ProcessStats& p) -> Number { return p.lockedBytes; }},
    {"xmem_process_hugetlb_bytes", kGauge, "Memory of the process on explicit huge pages.",
     [](const ProcessStats& p) -> Number { return p.hugeTlbBytes; }},
    {"xmem_process_readable", kGauge, "1 when the process could be read (0: gone or no permission).",
     [](const ProcessStats& p) -> Number { return p.error.empty(); }},
}};

const std::array<Metric<ProcessMappingStats>, 3> kMappingMetrics{{
    {"xmem_process_mapping_size_bytes", kGauge, "Size of one large mapping of the process.",
     [](const ProcessMappingStats& m) -> Number { return m.sizeBytes; }},
    {"xmem_process_mapping_resident_bytes", kGauge, "Resident bytes of one large mapping.",
     [](const ProcessMappingStats& m) -> Number { return m.residentBytes; }},
    {"xmem_process_mapping_locked_bytes", kGauge, "Locked bytes of one large mapping.",
     [](const ProcessMappingStats& m) -> Number { return m.lockedBytes; }},
}};

const std::array<Metric<PreloadAllocationStats>, 3> kPreloadMetrics{{
    {"xmem_process_preload_requested_bytes", kGauge, "Bytes a large allocation under xmem's preload library asked for.",
     [](const PreloadAllocationStats& a) -> Number { return a.requestedBytes; }},
    {"xmem_process_preload_mapped_bytes", kGauge, "Bytes mapped for a large allocation under the preload library.",
     [](const PreloadAllocationStats& a) -> Number { return a.mappedBytes; }},
    {"xmem_process_preload_hugetlb_bytes", kGauge, "Bytes of a preload allocation on explicit huge pages.",
     [](const PreloadAllocationStats& a) -> Number { return a.hugeTlbBytes; }},
}};

const std::array<Metric<AllocationStats>, 5> kAllocationMetrics{{
    {"xmem_allocation_requested_bytes", kGauge, "Bytes the allocations of this name asked for.",
     [](const AllocationStats& a) -> Number { return a.requestedBytes; }},
    {"xmem_allocation_mapped_bytes", kGauge, "Bytes mapped for the allocations of this name.",
     [](const AllocationStats& a) -> Number { return a.mappedBytes; }},
    {"xmem_allocation_locked_bytes", kGauge, "Mapped bytes of the locked allocations of this name.",
     [](const AllocationStats& a) -> Number { return a.locked ? a.mappedBytes : 0; }},
    {"xmem_allocation_prefaulted_bytes", kGauge, "Mapped bytes of the pre-faulted allocations of this name.",
     [](const AllocationStats& a) -> Number { return a.prefaulted ? a.mappedBytes : 0; }},
    {"xmem_allocation_unbound_bytes", kGauge, "Mapped bytes whose NUMA policy could not be applied.",
     [](const AllocationStats& a) -> Number { return a.policy != NumaPolicy::None && !a.bound ? a.mappedBytes : 0; }},
}};

std::string nodeLabel(std::uint32_t node) { return std::to_string(node); }
std::string sizeLabel(std::size_t pageSize) { return std::to_string(pageSize); }

void addHealth(Exposition& out, std::string_view name, std::string_view help, Labels labels, Health health) {
  labels.emplace_back("state", "");
  for (const Health state : {Health::Green, Health::Yellow, Health::Red}) {
    labels.back().second = std::string(toString(state));
    out.gauge(name, help).add(labels, state == health);
  }
}

void addBacked(Exposition& out, std::string_view name, std::string_view help, const Labels& labels,
               const std::vector<BackedBytes>& parts) {
  for (const auto& part : parts) {
    Labels withPart = labels;
    withPart.emplace_back("backing", std::string(toString(part.backing)));
    withPart.emplace_back("page_size", sizeLabel(part.pageSize));
    out.gauge(name, help).add(withPart, part.bytes);
  }
}

void addMachine(Exposition& out, const Snapshot& snapshot) {
  const MachineFacts& machine = snapshot.machine;
  out.gauge("xmem_build_info", "The xmem version that wrote this.").add({{"version", snapshot.xmemVersion}}, 1);
  out.gauge("xmem_machine_info", "The machine the snapshot describes.")
      .add({{"hostname", snapshot.hostname}, {"platform", machine.platform}, {"kernel", machine.kernel}}, 1);
  addRows(out, kSnapshotMetrics, snapshot, {});
  addRows(out, kMachineMetrics, machine, {});
  for (const auto& node : machine.nodes) {
    addRows(out, kNodeMetrics, node, {{"node", nodeLabel(node.id)}});
    for (std::size_t i = 0; i < node.distances.size() && i < machine.nodes.size(); ++i) {
      out.gauge("xmem_node_distance", "The firmware's distance from the node to another (10: local).")
          .add({{"node", nodeLabel(node.id)}, {"to_node", nodeLabel(machine.nodes[i].id)}}, node.distances[i]);
    }
  }
}

void addPagePools(Exposition& out, const std::vector<PagePoolStats>& pools) {
  for (const auto& pool : pools) {
    const bool perNode = pool.node.has_value();
    Labels labels;
    if (perNode) labels.emplace_back("node", nodeLabel(*pool.node));
    labels.emplace_back("page_size", sizeLabel(pool.pageSize));
    const std::size_t rows = perNode ? kPerNodeHugePageMetrics : kHugePageMetrics.size();
    for (std::size_t i = 0; i < rows; ++i) {
      const auto& metric = kHugePageMetrics[i];
      const std::string name = std::string(perNode ? "xmem_node_" : "xmem_") + std::string(metric.name);
      out.family(name, metric.type, metric.help).add(labels, metric.value(pool));
    }
  }
}

void addKernel(Exposition& out, const KernelMemoryStats& kernel) {
  out.gauge("xmem_kernel_thp_info", "The transparent huge page mode and defrag setting.")
      .add({{"mode", std::string(toString(kernel.thp.mode))}, {"defrag", kernel.thp.defrag}}, 1);
  out.gauge("xmem_kernel_thp_page_size_bytes", "The transparent huge page size.").add({}, kernel.thp.pmdSize);
  for (const auto& [counter, value] : kernel.counters) {
    const std::string name = "xmem_kernel_" + prometheus::sanitizeNamePart(counter) + "_total";
    out.counter(name, "The kernel's vmstat counter " + counter + ".").add({}, value);
  }
  for (const auto& zone : kernel.fragmentation) {
    const Labels labels{{"node", nodeLabel(zone.node)}, {"zone", zone.zone}};
    addRows(out, kFragmentationMetrics, zone, labels);
    for (std::size_t order = 0; order < zone.freeBlocksByOrder.size(); ++order) {
      Labels withOrder = labels;
      withOrder.emplace_back("order", std::to_string(order));
      out.gauge("xmem_node_free_blocks", "Free blocks of 2^order base pages (buddy allocator).")
          .add(withOrder, zone.freeBlocksByOrder[order]);
    }
  }
  const auto& memlock = kernel.memlock;
  auto& limit = out.gauge("xmem_kernel_memlock_limit_bytes", "The memlock limit (+Inf: unlimited).");
  limit.add({{"limit", "soft"}}, bytesOrInfinity(memlock.soft)).add({{"limit", "hard"}}, bytesOrInfinity(memlock.hard));
  out.gauge("xmem_kernel_memlock_privileged", "1 when the memlock limit does not apply (CAP_IPC_LOCK).")
      .add({}, memlock.privileged);
}

void addAllocations(Exposition& out, const std::vector<AllocationStats>& allocations) {
  for (const auto& allocation : allocations) {
    const Labels labels{{"allocation", allocation.name}};
    addRows(out, kAllocationMetrics, allocation, labels);
    addBacked(out, "xmem_allocation_bytes", "Mapped bytes of the allocations of this name by backing and page size.",
              labels, allocation.parts);
    std::size_t offNode = 0;
    for (const auto& [node, bytes] : allocation.residentBytesByNode) {
      out.gauge("xmem_allocation_resident_bytes", "Faulted-in bytes of the allocations of this name by node.")
          .add({{"allocation", allocation.name}, {"node", nodeLabel(node)}}, bytes);
      if (allocation.nodeAsked && node != *allocation.nodeAsked) offNode += bytes;
    }
    out.gauge("xmem_allocation_off_node_bytes", "Faulted-in bytes not on the node the allocation asked for.")
        .add(labels, offNode);
    for (const Health state : {Health::Green, Health::Yellow, Health::Red}) {
      out.gauge("xmem_allocations", "Allocations of this name in each state.")
          .add({{"allocation", allocation.name}, {"state", std::string(toString(state))}}, allocation.health == state);
    }
  }
}

// Pools of one name on one node (the default name is shared) as one: sizes and counts add up, the
// largest free block is the largest of theirs, and fragmentation is that of the whole.
std::vector<PoolNodeStats> mergedPools(const std::vector<PoolNodeStats>& pools) {
  std::vector<PoolNodeStats> merged;
  std::map<std::pair<std::string, std::uint32_t>, std::size_t> indexOf;
  for (const auto& pool : pools) {
    const auto [where, added] = indexOf.try_emplace({pool.pool, pool.node}, merged.size());
    if (added) {
      merged.push_back(pool);
      continue;
    }
    PoolNodeStats& into = merged[where->second];
    into.capacityBytes += pool.capacityBytes;
    into.inUseBytes += pool.inUseBytes;
    into.highWaterBytes += pool.highWaterBytes;
    into.freeBytes += pool.freeBytes;
    into.largestFreeBlockBytes = std::max(into.largestFreeBlockBytes, pool.largestFreeBlockBytes);
    into.hugeBytes += pool.hugeBytes;
    into.pageSize = std::max(into.pageSize, pool.pageSize);
    into.allocations += pool.allocations;
    into.releases += pool.releases;
    for (std::size_t kind = 0; kind < kPoolFailureKinds; ++kind) into.failures[kind] += pool.failures[kind];
    into.fallbacksOut += pool.fallbacksOut;
    into.fallbacksIn += pool.fallbacksIn;
    into.fragmentation = into.freeBytes == 0 ? 0.0
                                             : 1.0 - static_cast<double>(into.largestFreeBlockBytes) /
                                                         static_cast<double>(into.freeBytes);
  }
  return merged;
}

void addPools(Exposition& out, const std::vector<PoolNodeStats>& pools) {
  for (const auto& pool : mergedPools(pools)) {
    const Labels labels{{"pool", pool.pool}, {"node", nodeLabel(pool.node)}};
    addRows(out, kPoolMetrics, pool, labels);
    for (std::size_t kind = 0; kind < kPoolFailureKinds; ++kind) {
      Labels withReason = labels;
      withReason.emplace_back("reason", std::string(toString(static_cast<PoolFailure>(kind))));
      out.counter("xmem_pool_failures_total", "Requests the pool could not serve, by reason.")
          .add(withReason, pool.failures[kind]);
    }
    auto& fallbacks = out.counter("xmem_pool_fallbacks_total",
                                  "Requests served on another node (out: asked here, in: served here for another).");
    fallbacks.add({labels[0], labels[1], {"direction", "out"}}, pool.fallbacksOut);
    fallbacks.add({labels[0], labels[1], {"direction", "in"}}, pool.fallbacksIn);
  }
}

void addMappings(Exposition& out, const std::string& pid, const std::vector<ProcessMappingStats>& mappings) {
  for (const auto& mapping : mappings) {
    const Labels labels{{"pid", pid}, {"mapping", hex(mapping.start)}};
    out.gauge("xmem_process_mapping_info", "A large mapping of the process and its name.")
        .add({labels[0], labels[1], {"name", mapping.name}}, 1);
    addRows(out, kMappingMetrics, mapping, labels);
    addBacked(out, "xmem_process_mapping_bytes", "Resident bytes of a mapping by backing and page size.", labels,
              mapping.parts);
    for (const auto& [node, bytes] : mapping.bytesByNode) {
      out.gauge("xmem_process_mapping_node_bytes", "Resident bytes of a mapping by node.")
          .add({labels[0], labels[1], {"node", nodeLabel(node)}}, bytes);
    }
    addHealth(out, "xmem_process_mapping_health", "1 for the mapping's state (green: all huge).", labels,
              mapping.health);
  }
}

void addProcess(Exposition& out, const ProcessStats& process, std::string_view role) {
  const std::string pid = std::to_string(process.pid);
  const Labels labels{{"pid", pid}};
  out.gauge("xmem_process_info", "A process xmem reads (role self: the one serving; watched: read from outside).")
      .add({{"pid", pid}, {"command", process.command}, {"role", std::string(role)}}, 1);
  addRows(out, kProcessMetrics, process, labels);
  out.gauge("xmem_process_under_preload", "1 when xmem's preload library serves the process.")
      .add(labels, process.underPreload);
  addBacked(out, "xmem_process_backed_bytes", "Resident bytes of its large mappings by backing and page size.", labels,
            process.parts);
  addHealth(out, "xmem_process_health", "1 for the process's state (green: all huge, on the node asked).", labels,
            process.health);
  addMappings(out, pid, process.mappings);
  for (const auto& allocation : process.preload) {
    addRows(out, kPreloadMetrics, allocation,
            {{"pid", pid}, {"address", hex(allocation.address)}, {"source", allocation.source}});
  }
}

void addProcesses(Exposition& out, const Snapshot& snapshot) {
  // A process appears once: watching the serving process itself (or one pid twice) adds no series.
  std::set<std::int64_t> written;
  if (snapshot.self.pid != 0) {
    addProcess(out, snapshot.self, "self");
    written.insert(snapshot.self.pid);
  }
  for (const auto& process : snapshot.processes) {
    if (written.insert(process.pid).second) addProcess(out, process, "watched");
  }
}

void addBandwidth(Exposition& out, const Snapshot& snapshot) {
  if (snapshot.bandwidth) {
    const BandwidthMatrix& matrix = *snapshot.bandwidth;
    out.gauge("xmem_bandwidth_last_run_timestamp_seconds", "When the bandwidth was last measured.")
        .add({}, unixSeconds(matrix.measuredAt));
    out.gauge("xmem_bandwidth_last_run_duration_seconds", "How long the last measurement took.")
        .add({}, seconds(matrix.took));
    out.gauge("xmem_bandwidth_age_seconds", "Age of the last measurement when the snapshot was taken.")
        .add({}, seconds(snapshot.takenAt - matrix.measuredAt));
    for (const auto& figure : matrix.figures) {
      Labels labels{{"cpu_node", nodeLabel(figure.cpuNode)},
                    {"memory_node", nodeLabel(figure.memoryNode)},
                    {"kernel", figure.kernel}};
      out.gauge("xmem_bandwidth_buffer_bytes", "Buffer size of the measurement.").add(labels, figure.bufferBytes);
      out.gauge("xmem_bandwidth_threads", "Threads of the measurement.").add(labels, figure.threads);
      out.gauge("xmem_bandwidth_repetitions", "Repetitions of the measurement.").add(labels, figure.repetitions);
      auto& rate =
          out.gauge("xmem_bandwidth_bytes_per_second",
                    "Bandwidth with threads on cpu_node and memory on memory_node (stat: best or median run).");
      labels.emplace_back("stat", "best");
      rate.add(labels, figure.bestBytesPerSecond);
      labels.back().second = "median";
      rate.add(labels, figure.medianBytesPerSecond);
    }
  }
  if (snapshot.randomx) {
    out.gauge("xmem_randomx_hashrate_hashes_per_second", "The RandomX hashrate the estimate is based on.")
        .add({}, snapshot.randomx->hashesPerSecond);
    out.gauge("xmem_randomx_dataset_read_bytes_per_second", "Estimated dataset reads of RandomX (1 MiB per hash).")
        .add({}, snapshot.randomx->bytesPerSecond);
  }
}

}  // namespace

std::string toPrometheus(const Snapshot& snapshot) {
  Exposition out;
  addMachine(out, snapshot);
  addPagePools(out, snapshot.pagePools);
  addKernel(out, snapshot.kernel);
  addAllocations(out, snapshot.allocations);
  addPools(out, snapshot.pools);
  addProcesses(out, snapshot);
  addBandwidth(out, snapshot);
  return out.text();
}

}  // namespace xmem
