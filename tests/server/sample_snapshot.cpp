#include "sample_snapshot.h"

#include <chrono>

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
  miner.preload = {{0x7e0000000000, 2080 * MiB, 2 * GiB + 32 * MiB, 2 * GiB, 1 * GiB, 1, true, "mapping"},
                   {0x7d0000000000, 256 * MiB, 256 * MiB, 0, 2 * MiB, std::nullopt, false, "mapping"}};
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

}  // namespace xmem::testing
