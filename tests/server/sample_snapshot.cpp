#include "sample_snapshot.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace xmem::testing {
namespace {

using std::chrono::system_clock;

// 2026-12-02 06:00:00 UTC, plus five seconds a step: sample times as History would see them.
system_clock::time_point timeOf(int step) {
  return system_clock::time_point(std::chrono::seconds(1'796'191'200 + 5 * step));
}

std::vector<PagePoolStats> pagePools(int step) {
  auto s = static_cast<std::uint64_t>(step);
  PagePoolStats twoMbAll{2 * MiB, std::nullopt, {1024, 300 - s, 12, 0, 0}, 0, false, 0};
  PagePoolStats twoMbNode0{2 * MiB, 0, {512, 100 - s, 0, 0, 0}, 0, false, 0};
  PagePoolStats twoMbNode1{2 * MiB, 1, {512, 200, 0, 0, 0}, 0, false, 0};
  PagePoolStats oneGbNode1{1 * GiB, 1, {4, 3 - std::min<std::uint64_t>(s, 1), 0, 0, 0}, 3, true, 1};
  PagePoolStats oneGbNode0{1 * GiB, 0, {2, 0, 0, 1, 0}, 2, false, 0};
  return {twoMbAll, oneGbNode0, twoMbNode0, oneGbNode1, twoMbNode1};
}

KernelMemoryStats kernel(int step) {
  KernelMemoryStats kernel;
  kernel.thp = {ThpMode::Madvise, "defer+madvise", 2 * MiB};
  auto s = static_cast<std::uint64_t>(step);
  kernel.counters = {{"thp_fault_alloc", 900 + s}, {"thp_fault_fallback", 40 + 3 * s}, {"compact_fail", 7 + s}};
  kernel.fragmentation = {{0, "Normal", {120, 80, 40, 20, 10, 5, 4, 3, 2, 21 - s, 15}, 51 - s, 0.25 + 0.01 * step},
                          {1, "Normal", {10, 8, 4, 2, 1, 1, 1, 1, 1, 3, 200}, 403, 0.02}};
  kernel.oneGbAvailability = "1 GiB availability cannot be read: buddy orders stop at 4 MiB; only an attempt tells.";
  kernel.memlock = {64 * MiB, MemlockLimit::kUnlimited, false};
  return kernel;
}

ProcessStats selfProcess(int step) {
  ProcessStats self;
  self.pid = 4242;
  self.command = "xmem";
  self.residentBytes = 96 * MiB + static_cast<std::uint64_t>(step) * MiB;
  self.peakResidentBytes = 128 * MiB;
  self.hugeTlbBytes = 64 * MiB;
  self.parts = {{Backing::HugeTlb, 2 * MiB, 64 * MiB}, {Backing::Base, 4096, 16 * MiB}};
  ProcessMappingStats pool{0x7f0000000000, 0x7f0004000000, "[anon:" + kHostileName + "]", 64 * MiB, 64 * MiB,
                           {{Backing::HugeTlb, 2 * MiB, 64 * MiB}}, {{0, 64 * MiB}}, 0, Health::Green, ""};
  ProcessMappingStats heap{0x5600000000, 0x5601000000, "[heap]", 16 * MiB, 16 * MiB,
                           {{Backing::Base, 4096, 16 * MiB}}, {{0, 16 * MiB}}, 0, Health::Red,
                           "THP not advised (madvise mode) and no hugetlb"};
  self.mappings = {pool, heap};
  self.health = Health::Yellow;
  self.reason = "16 MiB of the heap on 4 KiB pages";
  return self;
}

ProcessStats minerProcess() {
  ProcessStats miner;
  miner.pid = 31337;
  miner.command = kHostileName;
  miner.residentBytes = 2560 * MiB;
  miner.peakResidentBytes = 2600 * MiB;
  miner.lockedBytes = 2 * GiB;
  miner.hugeTlbBytes = 2 * GiB;
  miner.parts = {{Backing::HugeTlb, 1 * GiB, 2 * GiB}, {Backing::Transparent, 2 * MiB, 256 * MiB},
                 {Backing::Base, 4096, 32 * MiB}};
  ProcessMappingStats dataset{0x7e0000000000, 0x7e0080000000, "/dev/hugepages/" + kHostileName, 2 * GiB, 2 * GiB,
                              {{Backing::HugeTlb, 1 * GiB, 2 * GiB}}, {{0, 1 * GiB}, {1, 1 * GiB}}, 0,
                              Health::Green, ""};
  ProcessMappingStats scratch{0x7d0000000000, 0x7d0012000000, "", 288 * MiB, 288 * MiB,
                              {{Backing::Transparent, 2 * MiB, 256 * MiB}, {Backing::Base, 4096, 32 * MiB}},
                              {{1, 288 * MiB}}, 0, Health::Yellow, "32 MiB not yet collapsed by khugepaged"};
  miner.mappings = {dataset, scratch};
  miner.underPreload = true;
  miner.preload = {{0x7e0000000000, 2080 * MiB, 2 * GiB + 32 * MiB, 2 * GiB, 1 * GiB, 1, true, "aligned_alloc"},
                   {0x7d0000000000, 256 * MiB, 256 * MiB, 0, 2 * MiB, std::nullopt, false, "malloc"}};
  miner.health = Health::Yellow;
  miner.reason = "32 MiB on 4 KiB pages";
  return miner;
}

std::vector<AllocationStats> allocations() {
  AllocationStats dataset{"randomx-dataset", 0x7f1000000000, 2080 * MiB, 3 * GiB,
                          {{Backing::HugeTlb, 1 * GiB, 2 * GiB}, {Backing::HugeTlb, 2 * MiB, 1 * GiB}},
                          1, NumaPolicy::Bind, true, {{1, 3 * GiB}}, true, true, false, Health::Green, ""};
  AllocationStats scratch{kHostileName, 0x7f2000000000, 2 * MiB, 2 * MiB, {{Backing::Base, 4096, 2 * MiB}},
                          0, NumaPolicy::Preferred, true, {{1, 2 * MiB}}, false, true, true, Health::Red,
                          "no 2 MiB page on node 0; on node 1"};
  return {dataset, scratch};
}

std::vector<PoolNodeStats> pools(int step) {
  auto s = static_cast<std::size_t>(step);
  PoolNodeStats node0{kHostileName, 0, 64 * MiB, (40 + s) * MiB, 48 * MiB, (24 - s) * MiB, 8 * MiB, 0, 64 * MiB,
                      2 * MiB, 120 + s, 100, {0, 2, 1}, 3, 0};
  node0.fragmentation = 1.0 - static_cast<double>(node0.largestFreeBlockBytes) / static_cast<double>(node0.freeBytes);
  PoolNodeStats node1{"scratchpads", 1, 32 * MiB, 16 * MiB, 30 * MiB, 16 * MiB, 16 * MiB, 0, 32 * MiB,
                      1 * GiB, 64, 60, {0, 0, 0}, 0, 3};
  return {node0, node1};
}

}  // namespace

Snapshot sampleSnapshot(int step) {
  Snapshot snapshot;
  snapshot.xmemVersion = "0.1.0";
  snapshot.takenAt = timeOf(step);
  snapshot.took = std::chrono::milliseconds(3);
  snapshot.hostname = "rig-" + kHostileName;
  snapshot.pagePools = pagePools(step);
  snapshot.kernel = kernel(step);
  snapshot.self = selfProcess(step);
  snapshot.allocations = allocations();
  snapshot.pools = pools(step);
  BandwidthMatrix matrix;
  matrix.measuredAt = snapshot.takenAt - std::chrono::minutes(3);
  matrix.took = std::chrono::seconds(4);
  for (std::uint32_t cpu = 0; cpu < 2; ++cpu)
    for (std::uint32_t memory = 0; memory < 2; ++memory)
      for (const char* name : {"read", "copy"})
        matrix.figures.push_back({cpu, memory, name, (cpu == memory ? 20e9 : 11e9) + (name[0] == 'c' ? -4e9 : 0) + memory * 1e8,
                                  (cpu == memory ? 19e9 : 10e9), 1 * GiB, 2, 5});
  snapshot.bandwidth = matrix;
  snapshot.processes = {minerProcess()};
  return snapshot;
}

namespace {

using Json = nlohmann::ordered_json;

std::string isoTime(system_clock::time_point at) {
  auto seconds = system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &utc));
}

Json optionalNode(const std::optional<std::uint32_t>& node) { return node ? Json(*node) : Json(nullptr); }

Json byNode(const std::map<std::uint32_t, std::size_t>& bytes) {
  Json out = Json::array();
  for (const auto& [node, count] : bytes) out.push_back({{"node", node}, {"bytes", count}});
  return out;
}

// As the exposition writes addresses: hex text, since JSON numbers above 2^53 lose digits.
Json address(std::uintptr_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

Json limit(std::uint64_t bytes) { return bytes == MemlockLimit::kUnlimited ? Json(nullptr) : Json(bytes); }

std::int64_t unixSeconds(system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

Json partsJson(const std::vector<BackedBytes>& parts) {
  Json out = Json::array();
  for (const auto& part : parts)
    out.push_back({{"backing", toString(part.backing)}, {"page_size", part.pageSize}, {"bytes", part.bytes}});
  return out;
}

Json processJson(const ProcessStats& process) {
  Json mappings = Json::array();
  for (const auto& m : process.mappings)
    mappings.push_back({{"start", address(m.start)}, {"end", address(m.end)}, {"name", m.name}, {"size_bytes", m.sizeBytes},
                        {"resident_bytes", m.residentBytes}, {"parts", partsJson(m.parts)},
                        {"bytes_by_node", byNode(m.bytesByNode)}, {"locked_bytes", m.lockedBytes},
                        {"health", toString(m.health)}, {"reason", m.reason}});
  Json preload = Json::array();
  for (const auto& r : process.preload)
    preload.push_back({{"address", address(r.address)}, {"requested_bytes", r.requestedBytes}, {"mapped_bytes", r.mappedBytes},
                       {"huge_tlb_bytes", r.hugeTlbBytes}, {"page_size", r.pageSize},
                       {"node_asked", optionalNode(r.nodeAsked)}, {"locked", r.locked}, {"source", r.source}});
  return {{"pid", process.pid}, {"command", process.command}, {"resident_bytes", process.residentBytes},
          {"peak_resident_bytes", process.peakResidentBytes}, {"locked_bytes", process.lockedBytes},
          {"huge_tlb_bytes", process.hugeTlbBytes}, {"parts", partsJson(process.parts)}, {"mappings", mappings},
          {"under_preload", process.underPreload}, {"preload", preload}, {"health", toString(process.health)},
          {"reason", process.reason}, {"error", process.error}};
}

Json kernelJson(const KernelMemoryStats& kernel) {
  Json zones = Json::array();
  for (const auto& z : kernel.fragmentation)
    zones.push_back({{"node", z.node}, {"zone", z.zone}, {"free_blocks_by_order", z.freeBlocksByOrder},
                     {"huge_page_blocks", z.hugePageBlocks}, {"unusable_free_index", z.unusableFreeIndex}});
  return {{"thp", {{"mode", toString(kernel.thp.mode)}, {"defrag", kernel.thp.defrag}, {"page_size", kernel.thp.pmdSize}}},
          {"counters", kernel.counters}, {"fragmentation", zones}, {"one_gb_availability", kernel.oneGbAvailability},
          {"memlock", {{"soft_bytes", limit(kernel.memlock.soft)}, {"hard_bytes", limit(kernel.memlock.hard)},
                       {"privileged", kernel.memlock.privileged}}}};
}

Json allocationsJson(const std::vector<AllocationStats>& allocations) {
  Json out = Json::array();
  for (const auto& a : allocations)
    out.push_back({{"name", a.name}, {"address", address(a.address)}, {"requested_bytes", a.requestedBytes},
                   {"mapped_bytes", a.mappedBytes}, {"parts", partsJson(a.parts)}, {"node_asked", optionalNode(a.nodeAsked)},
                   {"policy", toString(a.policy)}, {"bound", a.bound}, {"resident_bytes_by_node", byNode(a.residentBytesByNode)},
                   {"locked", a.locked}, {"prefaulted", a.prefaulted}, {"from_pool", a.fromPool},
                   {"health", toString(a.health)}, {"reason", a.reason}});
  return out;
}

Json poolsJson(const std::vector<PoolNodeStats>& pools) {
  Json out = Json::array();
  for (const auto& p : pools) {
    Json failures = Json::object();
    for (std::size_t kind = 0; kind < kPoolFailureKinds; ++kind)
      failures[std::string(toString(static_cast<PoolFailure>(kind)))] = p.failures[kind];
    out.push_back({{"pool", p.pool}, {"node", p.node}, {"capacity_bytes", p.capacityBytes}, {"in_use_bytes", p.inUseBytes},
                   {"high_water_bytes", p.highWaterBytes}, {"free_bytes", p.freeBytes},
                   {"largest_free_block_bytes", p.largestFreeBlockBytes}, {"fragmentation", p.fragmentation},
                   {"huge_bytes", p.hugeBytes}, {"page_size", p.pageSize}, {"allocations", p.allocations},
                   {"releases", p.releases}, {"failures", failures}, {"fallbacks_out", p.fallbacksOut},
                   {"fallbacks_in", p.fallbacksIn}});
  }
  return out;
}

Json bandwidthJson(const std::optional<BandwidthMatrix>& matrix, system_clock::time_point takenAt) {
  if (!matrix) return nullptr;
  Json figures = Json::array();
  for (const auto& f : matrix->figures)
    figures.push_back({{"cpu_node", f.cpuNode}, {"memory_node", f.memoryNode}, {"kernel", f.kernel},
                       {"best_bytes_per_second", f.bestBytesPerSecond}, {"median_bytes_per_second", f.medianBytesPerSecond},
                       {"buffer_bytes", f.bufferBytes}, {"threads", f.threads}, {"repetitions", f.repetitions}});
  return {{"measured_at", isoTime(matrix->measuredAt)}, {"measured_at_unix_seconds", unixSeconds(matrix->measuredAt)},
          {"age_seconds", unixSeconds(takenAt) - unixSeconds(matrix->measuredAt)},
          {"took_seconds", std::chrono::duration<double>(matrix->took).count()}, {"figures", figures}};
}

}  // namespace

std::string sampleSnapshotJson(const Snapshot& snapshot) {
  Json pagePools = Json::array();
  for (const auto& p : snapshot.pagePools)
    pagePools.push_back({{"page_size", p.pageSize}, {"node", optionalNode(p.node)},
                         {"configured_pages", p.counts.total}, {"free_pages", p.counts.free},
                         {"reserved_pages", p.counts.reserved}, {"surplus_pages", p.counts.surplus},
                         {"added_by_xmem_pages", p.addedByXmem}, {"count_before_xmem_pages", p.countBeforeXmem},
                         {"restored_on_release", p.restoredOnRelease}});
  Json processes = Json::array();
  for (const auto& process : snapshot.processes) processes.push_back(processJson(process));
  Json document = {{"schema_version", snapshot.schemaVersion}, {"taken_at", isoTime(snapshot.takenAt)},
                   {"taken_at_unix_seconds", unixSeconds(snapshot.takenAt)},
                   {"xmem_version", snapshot.xmemVersion}, {"hostname", snapshot.hostname},
                   {"page_pools", pagePools}, {"kernel", kernelJson(snapshot.kernel)}, {"self", processJson(snapshot.self)},
                   {"allocations", allocationsJson(snapshot.allocations)}, {"pools", poolsJson(snapshot.pools)},
                   {"bandwidth", bandwidthJson(snapshot.bandwidth, snapshot.takenAt)}, {"processes", processes}};
  return document.dump();
}

}  // namespace xmem::testing
