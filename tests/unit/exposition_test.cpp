// Snapshots as JSON and Prometheus text, held by golden files (tests/monitor/golden/; run with
// XMEM_UPDATE_GOLDEN=1 to rewrite them after a deliberate change), and the exposition lint: clean
// on what we write, and each of its checks firing on a planted problem.
#include "support/test_platform.h"

#include "monitor/prometheus_writer.h"

#include <xmem/error.h>
#include <xmem/exposition.h>
#include <xmem/monitor.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace xmem {
namespace {

using namespace std::chrono_literals;

const auto kTakenAt = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + 6h + 50min + 23s + 250ms;

MachineFacts goldenMachine() {
  MachineFacts machine;
  machine.platform = "linux";
  machine.kernel = "6.1.0-18-amd64";
  machine.memoryTotal = 64 * GiB;
  machine.memoryAvailable = 40 * GiB;
  machine.defaultHugePageSize = 2 * MiB;
  machine.hugePageSizes = {
      {2 * MiB, {1200, 100, 3, 2, 16}, {{0, {600, 60, 0, 1, 0}}, {1, {600, 40, 0, 1, 0}}}},
      {1 * GiB, {4, 1, 0, 0, 0}, {{0, {3, 1, 0, 0, 0}}, {1, {1, 0, 0, 0, 0}}}},
  };
  machine.cpuHasOneGbPages = true;
  machine.thp = {ThpMode::Madvise, "madvise", 2 * MiB};
  machine.memlock = {8 * MiB, MemlockLimit::kUnlimited, false};
  machine.nodes = {{0, {0, 1, 2, 3}, 32 * GiB, 20 * GiB, {10, 21}}, {1, {4, 5, 6, 7}, 32 * GiB, 18 * GiB, {21, 10}}};
  machine.populateReportsErrors = true;
  machine.namedMappings = true;
  return machine;
}

std::vector<PagePoolStats> goldenPagePools() {
  const MachineFacts machine = goldenMachine();
  std::vector<PagePoolStats> pools;
  for (const auto& size : machine.hugePageSizes) {
    pools.push_back({size.pageSize, std::nullopt, size.counts, size.pageSize == GiB ? 2u : 0u, true, 2});
    for (const auto& [node, counts] : size.nodes) {
      const std::uint64_t added = size.pageSize == GiB && node == 0 ? 2 : 0;
      pools.push_back({size.pageSize, node, counts, added, added != 0, added != 0 ? 1u : 0u});
    }
  }
  return pools;
}

KernelMemoryStats goldenKernel() {
  KernelMemoryStats kernel;
  kernel.thp = goldenMachine().thp;
  kernel.counters = {{"compact_fail", 5},       {"compact_stall", 9},       {"htlb_buddy_alloc_success", 4},
                     {"thp_fault_alloc", 1200}, {"thp_fault_fallback", 37}, {"thp_collapse_alloc", 11}};
  kernel.fragmentation = {{0, "Normal", {900, 400, 200, 100, 50, 30, 20, 10, 5, 21, 15}, 51, 0.25},
                          {1, "Normal", {1000, 500, 20, 10, 5, 3, 2, 1, 0, 0, 0}, 0, 1.0}};
  kernel.oneGbAvailability = "unknown: buddy orders stop at 4 MiB; only an attempt tells";
  kernel.memlock = goldenMachine().memlock;
  return kernel;
}

std::vector<AllocationStats> goldenAllocations() {
  AllocationStats dataset;
  dataset.name = "dataset";
  dataset.address = 0x7f0000000000;
  dataset.requestedBytes = 2080 * MiB;
  dataset.mappedBytes = 3 * GiB;
  dataset.parts = {{Backing::HugeTlb, GiB, 2 * GiB}, {Backing::HugeTlb, 2 * MiB, GiB}};
  dataset.nodeAsked = 0;
  dataset.policy = NumaPolicy::Bind;
  dataset.bound = true;
  dataset.residentBytesByNode = {{0, 3 * GiB}};
  dataset.locked = true;
  dataset.prefaulted = true;
  AllocationStats scratchpad;
  scratchpad.name = "scratchpad \"t0\"\\1";  // a label value that needs escaping
  scratchpad.address = 0x7f1000000000;
  scratchpad.requestedBytes = 2 * MiB;
  scratchpad.mappedBytes = 4 * MiB;
  scratchpad.parts = {{Backing::Transparent, 2 * MiB, 2 * MiB}, {Backing::Base, 4 * KiB, 2 * MiB}};
  scratchpad.nodeAsked = 1;
  scratchpad.policy = NumaPolicy::Preferred;
  scratchpad.residentBytesByNode = {{0, 1 * MiB}, {1, 3 * MiB}};
  scratchpad.fromPool = true;
  scratchpad.health = Health::Yellow;
  scratchpad.reason = "half on base pages: no 2 MiB page was free";
  return {dataset, scratchpad};
}

std::vector<PoolNodeStats> goldenPools() {
  PoolNodeStats node0{"scratchpads", 0,       64 * MiB, 48 * MiB, 56 * MiB,  16 * MiB, 4 * MiB, 0.75,
                      64 * MiB,      2 * MiB, 120,      96,       {1, 2, 0}, 3,        0};
  PoolNodeStats node1{"scratchpads", 1,       32 * MiB, 32 * MiB, 32 * MiB,  0, 0, 0,
                      30 * MiB,      2 * MiB, 40,       24,       {0, 5, 1}, 0, 3};
  return {node0, node1};
}

ProcessStats goldenWatched() {
  ProcessStats xmrig;
  xmrig.pid = 777;
  xmrig.command = "xmrig";
  xmrig.residentBytes = 2400 * MiB;
  xmrig.peakResidentBytes = 2500 * MiB;
  xmrig.lockedBytes = 0;
  xmrig.hugeTlbBytes = GiB + 2 * MiB;
  xmrig.parts = {{Backing::HugeTlb, GiB, GiB},
                 {Backing::HugeTlb, 2 * MiB, 2 * MiB},
                 {Backing::Transparent, 2 * MiB, 2 * MiB},
                 {Backing::Base, 4 * KiB, 4 * MiB}};
  const auto mapping = [](std::uintptr_t start, std::size_t size, std::string name, BackedBytes part, Health health,
                          std::string reason) {
    return ProcessMappingStats{start, start + size, std::move(name),  size, part.bytes, {part}, {{0, part.bytes}},
                               0,     health,       std::move(reason)};
  };
  xmrig.mappings = {
      mapping(0x7e0000000000, GiB, "/dev/hugepages/xmrig\nnew line", {Backing::HugeTlb, GiB, GiB}, Health::Green, ""),
      mapping(0x7e0040000000, 2 * MiB, "[anon:randomx cache]", {Backing::HugeTlb, 2 * MiB, 2 * MiB}, Health::Green, ""),
      mapping(0x7e0040200000, 2 * MiB, "[anon:thp]", {Backing::Transparent, 2 * MiB, 2 * MiB}, Health::Yellow,
              "transparent huge pages, not reserved"),
      mapping(0x7e0040400000, 4 * MiB, "", {Backing::Base, 4 * KiB, 4 * MiB}, Health::Red, "base pages only"),
  };
  xmrig.mappings[0].bytesByNode = {{0, GiB / 2}, {1, GiB / 2}};
  xmrig.underPreload = true;
  xmrig.preload = {{0x7e0040400000, 4 * MiB, 4 * MiB, 0, 4 * KiB, 1, false, "mapping",
                    {{Backing::Transparent, 2 * MiB, 2 * MiB}, {Backing::Base, 4 * KiB, 2 * MiB}}, {{1, 4 * MiB}}}};
  xmrig.health = Health::Yellow;
  xmrig.reason = "4 MiB on base pages";
  return xmrig;
}

Snapshot goldenSnapshot() {
  Snapshot snapshot;
  snapshot.xmemVersion = "0.4.0 \"golden\"";
  snapshot.takenAt = kTakenAt;
  snapshot.took = 1500us;
  snapshot.hostname = "rig\\01";
  snapshot.machine = goldenMachine();
  snapshot.pagePools = goldenPagePools();
  snapshot.kernel = goldenKernel();
  snapshot.self = {4242, "xmem", 3 * GiB, 3 * GiB,       3 * GiB, 3 * GiB, {{Backing::HugeTlb, GiB, 3 * GiB}},
                   {},   false,  {},      Health::Green, "",      ""};
  snapshot.allocations = goldenAllocations();
  snapshot.pools = goldenPools();
  BandwidthMatrix matrix{kTakenAt - 90s, 2500ms, {}};
  for (std::uint32_t cpu = 0; cpu < 2; ++cpu) {
    for (std::uint32_t memory = 0; memory < 2; ++memory) {
      const double local = cpu == memory ? 1.0 : 0.5;
      matrix.figures.push_back({cpu, memory, "read", 2.0e10 * local, 1.9e10 * local, 256 * MiB, 4, 5});
      matrix.figures.push_back({cpu, memory, "triad", 1.5e10 * local, 1.25e10 * local, 256 * MiB, 4, 5});
    }
  }
  snapshot.bandwidth = matrix;
  snapshot.randomx = RandomxBandwidthEstimate{770.5, 770.5 * MiB};
  ProcessStats gone;
  gone.pid = 778;
  gone.command = "xmrig";
  gone.health = Health::Red;
  gone.error = "process 778 is gone";
  // The serving process watched as well: it must not be written twice.
  snapshot.processes = {goldenWatched(), gone, snapshot.self};
  return snapshot;
}

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return {};
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Compares `actual` with the golden file and names the first line that differs.
void expectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(XMEM_SOURCE_DIR) + "/tests/monitor/golden/" + name;
  if (const char* update = std::getenv("XMEM_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    std::cout << "rewrote " << path << '\n';
    return;
  }
  const std::string expected = readFile(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing or empty: run with XMEM_UPDATE_GOLDEN=1 to write it";
  if (expected == actual) return;
  const auto want = linesOf(expected);
  const auto got = linesOf(actual);
  std::size_t line = 0;
  while (line < want.size() && line < got.size() && want[line] == got[line]) ++line;
  ADD_FAILURE() << path << " differs at line " << line + 1 << ":\n- " << (line < want.size() ? want[line] : "<end>")
                << "\n+ " << (line < got.size() ? got[line] : "<end>")
                << "\n(XMEM_UPDATE_GOLDEN=1 rewrites the file after a deliberate change)";
}

TEST(Exposition, JsonMatchesGolden) {
  expectGolden("snapshot.json", toJson(goldenSnapshot(), SnapshotPart::All, 2) + '\n');
}

TEST(Exposition, PrometheusMatchesGolden) { expectGolden("snapshot.prom", toPrometheus(goldenSnapshot())); }

TEST(Exposition, GoldenMetricsPassOurLint) {
  const std::string text = toPrometheus(goldenSnapshot());
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
  EXPECT_EQ(checkExposition(readFile(std::string(XMEM_SOURCE_DIR) + "/tests/monitor/golden/snapshot.prom")),
            std::vector<std::string>{});
}

// --- JSON ---

TEST(Exposition, EveryJsonPartStartsWithSchemaVersionAndTakenAt) {
  const Snapshot snapshot = goldenSnapshot();
  const std::vector<std::pair<SnapshotPart, std::vector<std::string>>> parts{
      {SnapshotPart::Machine, {"machine", "page_pools", "kernel"}},
      {SnapshotPart::Allocations, {"allocations"}},
      {SnapshotPart::Pools, {"pools"}},
      {SnapshotPart::Processes, {"self", "processes"}},
      {SnapshotPart::Bandwidth, {"bandwidth", "randomx"}},
  };
  const auto all = nlohmann::ordered_json::parse(toJson(snapshot));
  for (const auto& [part, keys] : parts) {
    const auto document = nlohmann::ordered_json::parse(toJson(snapshot, part));
    EXPECT_EQ(document.begin().key(), "schema_version");
    EXPECT_EQ(document["schema_version"], kSnapshotSchemaVersion);
    EXPECT_EQ(document["taken_at"], "2026-12-02T06:50:23.25Z");
    EXPECT_EQ(document["taken_at_unix_seconds"], 1796194223.25);
    for (const auto& key : keys) EXPECT_EQ(document[key], all[key]) << key << " differs from the All document";
    // Header (6 keys) plus the part's own: nothing of the other parts.
    EXPECT_EQ(document.size(), 6 + keys.size());
  }
}

TEST(Exposition, JsonIsOneLineWithoutIndentAndTheSameEachTime) {
  const Snapshot snapshot = goldenSnapshot();
  const std::string line = toJson(snapshot);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, toJson(snapshot));
  EXPECT_EQ(nlohmann::json::parse(line), nlohmann::json::parse(toJson(snapshot, SnapshotPart::All, 4)));
}

TEST(Exposition, JsonSpellsUnlimitedNullAndBandwidthAge) {
  const auto document = nlohmann::json::parse(toJson(goldenSnapshot()));
  EXPECT_EQ(document["kernel"]["memlock"]["soft_bytes"], 8 * MiB);
  EXPECT_TRUE(document["kernel"]["memlock"]["hard_bytes"].is_null()) << "unlimited";
  EXPECT_EQ(document["bandwidth"]["age_seconds"], 90.0);
  EXPECT_EQ(document["bandwidth"]["measured_at"], "2026-12-02T06:48:53.25Z");
  EXPECT_TRUE(document["page_pools"][0]["node"].is_null()) << "system-wide";
  EXPECT_EQ(document["allocations"][1]["parts"][0]["backing"], "thp");
  EXPECT_EQ(document["allocations"][1]["policy"], toString(NumaPolicy::Preferred));
}

TEST(Exposition, JsonWithoutBandwidthHasNulls) {
  Snapshot snapshot = goldenSnapshot();
  snapshot.bandwidth.reset();
  snapshot.randomx.reset();
  const auto document = nlohmann::json::parse(toJson(snapshot, SnapshotPart::Bandwidth));
  EXPECT_TRUE(document["bandwidth"].is_null());
  EXPECT_TRUE(document["randomx"].is_null());
}

TEST(Exposition, JsonReplacesBytesThatAreNotUtf8) {
  Snapshot snapshot = goldenSnapshot();
  snapshot.processes[0].mappings[0].name = "/tmp/\xff\xfe";
  const auto document = nlohmann::json::parse(toJson(snapshot, SnapshotPart::Processes));
  EXPECT_EQ(document["processes"][0]["mappings"][0]["name"], "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Exposition, JsonRefusesAPartThatIsNotOne) {
  try {
    (void)toJson(goldenSnapshot(), static_cast<SnapshotPart>(9));
    FAIL() << "no error for part 9";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("snapshot part 9 is not one of All"), std::string::npos) << error.what();
  }
}

// --- Prometheus text ---

std::vector<std::string> typeLines(const std::string& text) {
  std::vector<std::string> names;
  for (const auto& line : linesOf(text)) {
    if (line.starts_with("# TYPE ")) names.push_back(line.substr(7, line.find(' ', 7) - 7));
  }
  return names;
}

TEST(Exposition, FamiliesAreSortedAndEndInANewline) {
  const std::string text = toPrometheus(goldenSnapshot());
  const auto names = typeLines(text);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_GT(names.size(), 60u);
  EXPECT_EQ(text.back(), '\n');
}

TEST(Exposition, PrometheusCoversTheSnapshot) {
  const std::string text = toPrometheus(goldenSnapshot());
  for (const char* line : {
           "xmem_node_hugepages_configured{node=\"1\",page_size=\"1073741824\"} 1\n",
           "xmem_hugepages_reserved{page_size=\"2097152\"} 3\n",
           "xmem_node_hugepages_restored_on_release{node=\"0\",page_size=\"1073741824\"} 1\n",
           "xmem_kernel_thp_fault_fallback_total 37\n",
           "xmem_kernel_thp_info{mode=\"madvise\",defrag=\"madvise\"} 1\n",
           "xmem_kernel_memlock_limit_bytes{limit=\"hard\"} +Inf\n",
           "xmem_node_unusable_free_index_ratio{node=\"1\",zone=\"Normal\"} 1\n",
           "xmem_pool_failures_total{pool=\"scratchpads\",node=\"1\",reason=\"full\"} 5\n",
           "xmem_pool_fallbacks_total{pool=\"scratchpads\",node=\"1\",direction=\"in\"} 3\n",
           "xmem_pool_fragmentation_ratio{pool=\"scratchpads\",node=\"0\"} 0.75\n",
           "xmem_process_health{pid=\"778\",state=\"red\"} 1\n",
           "xmem_process_readable{pid=\"778\"} 0\n",
           "xmem_process_mapping_info{pid=\"777\",mapping=\"0x7e0000000000\",name=\"/dev/hugepages/xmrig\\nnew line\"} "
           "1\n",
           "xmem_allocation_requested_bytes{allocation=\"scratchpad \\\"t0\\\"\\\\1\"} 2097152\n",
           "xmem_bandwidth_bytes_per_second{cpu_node=\"1\",memory_node=\"0\",kernel=\"read\",stat=\"median\"} "
           "9.5e+09\n",
           "xmem_bandwidth_age_seconds 90\n",
           "xmem_snapshot_timestamp_seconds 1796194223.25\n",
           "xmem_scrape_duration_seconds 0.0015\n",
           "xmem_randomx_dataset_read_bytes_per_second 807927808\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line;
  }
  EXPECT_EQ(text.find("xmem_process_info{pid=\"4242\",command=\"xmem\",role=\"watched\"}"), std::string::npos)
      << "the serving process is written once, as self";
}

TEST(Exposition, WithoutBandwidthNoBandwidthFamilies) {
  Snapshot snapshot = goldenSnapshot();
  snapshot.bandwidth.reset();
  snapshot.randomx.reset();
  const std::string text = toPrometheus(snapshot);
  EXPECT_EQ(text.find("xmem_bandwidth"), std::string::npos);
  EXPECT_EQ(text.find("xmem_randomx"), std::string::npos);
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
}

TEST(Exposition, PoolsOfOneNameOnOneNodeAreWrittenAsOne) {
  Snapshot snapshot = goldenSnapshot();
  PoolNodeStats second = snapshot.pools[0];
  second.capacityBytes = 16 * MiB;
  second.freeBytes = 16 * MiB;
  second.largestFreeBlockBytes = 16 * MiB;
  second.allocations = 1;
  snapshot.pools.push_back(second);
  const std::string text = toPrometheus(snapshot);
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
  EXPECT_NE(text.find("xmem_pool_capacity_bytes{pool=\"scratchpads\",node=\"0\"} 83886080\n"), std::string::npos);
  EXPECT_NE(text.find("xmem_pool_allocations_total{pool=\"scratchpads\",node=\"0\"} 121\n"), std::string::npos);
  EXPECT_NE(text.find("xmem_pool_largest_free_block_bytes{pool=\"scratchpads\",node=\"0\"} 16777216\n"),
            std::string::npos);
  // 1 - 16 MiB largest / 32 MiB free: neither pool's own ratio, nor their sum
  EXPECT_NE(text.find("xmem_pool_fragmentation_ratio{pool=\"scratchpads\",node=\"0\"} 0.5\n"), std::string::npos);
  EXPECT_NE(text.find("xmem_pool_fragmentation_ratio{pool=\"scratchpads\",node=\"1\"} 0\n"), std::string::npos);
}

TEST(Exposition, NumbersAsTheFormatSpellsThem) {
  using prometheus::formatNumber;
  EXPECT_EQ(formatNumber(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(formatNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatNumber(0.1), "0.1") << "shortest round trip";
  EXPECT_EQ(formatNumber(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(formatNumber(std::uint64_t{18446744073709551615u}), "18446744073709551615") << "whole numbers exact";
}

TEST(Exposition, WriterEscapesAndSumsOneSeries) {
  prometheus::Exposition out;
  out.gauge("b_bytes", "line one\nback\\slash").add({{"path", "a\\b\"c\nd"}}, 1).add({{"path", "a\\b\"c\nd"}}, 2);
  out.counter("a_total", "first by name").add({}, 3);
  EXPECT_EQ(out.text(),
            "# HELP a_total first by name\n# TYPE a_total counter\na_total 3\n"
            "# HELP b_bytes line one\\nback\\\\slash\n# TYPE b_bytes gauge\nb_bytes{path=\"a\\\\b\\\"c\\nd\"} 3\n");
}

TEST(Exposition, WriterRefusesNamesTheFormatOrTheConventionsRefuse) {
  prometheus::Exposition out;
  EXPECT_THROW(out.counter("xmem_pool_allocations", "no _total"), std::logic_error);
  EXPECT_THROW(out.gauge("xmem_things_total", "_total on a gauge"), std::logic_error);
  EXPECT_THROW(out.gauge("9lives", "starts with a digit"), std::logic_error);
  EXPECT_THROW(out.gauge("xmem_a", "help").add({{"__name", "x"}}, 1), std::logic_error);
  EXPECT_THROW(out.gauge("xmem_b", "help").add({{"bad-label", "x"}}, 1), std::logic_error);
  EXPECT_THROW(out.gauge("xmem_d", "help").add({{"node", "0"}, {"node", "1"}}, 1), std::logic_error);
  out.gauge("xmem_c", "help");
  EXPECT_THROW(out.counter("xmem_c", "help"), std::logic_error) << "one name, two types";
}

TEST(Exposition, LabelValuesAreMadeValidUtf8) {
  Snapshot snapshot = goldenSnapshot();
  snapshot.processes[0].mappings[0].name = "/tmp/caf\xc3\xa9-\xff\xc3";  // valid é, then two bad bytes
  const std::string text = toPrometheus(snapshot);
  EXPECT_NE(text.find("name=\"/tmp/caf\xc3\xa9-\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n"), std::string::npos);
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
  EXPECT_FALSE(prometheus::isValidUtf8("\xed\xa0\x80")) << "a UTF-16 surrogate";
  EXPECT_FALSE(prometheus::isValidUtf8("\xc0\xaf")) << "an overlong /";
  EXPECT_TRUE(prometheus::isValidUtf8("\xf0\x9f\x98\x80"));
}

TEST(Exposition, VmstatNamesAreMadeValid) {
  Snapshot snapshot = goldenSnapshot();
  snapshot.kernel.counters = {{"odd-name.x", 1}};
  const std::string text = toPrometheus(snapshot);
  EXPECT_NE(text.find("xmem_kernel_odd_name_x_total 1\n"), std::string::npos);
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
}

// This machine and this process as the Monitor reads them (the kernel's files, this process's
// own mappings), through both writers; two snapshots a moment apart keep every counter.
TEST(Exposition, ThisMachineWritesCleanly) {
  Monitor monitor(MonitorOptions{.cacheFor = std::chrono::milliseconds(0)});
  monitor.setRandomxHashrate(100);
  const Snapshot first = monitor.snapshot();
  const std::string text = toPrometheus(first);
  EXPECT_EQ(checkExposition(text), std::vector<std::string>{});
  EXPECT_NE(text.find("xmem_memory_total_bytes " + std::to_string(first.machine.memoryTotal) + "\n"),
            std::string::npos);
  const auto document = nlohmann::json::parse(toJson(first));
  EXPECT_EQ(document["machine"]["memory_total_bytes"], first.machine.memoryTotal);
  EXPECT_EQ(document["machine"]["nodes"].size(), first.machine.nodes.size());
  if (xmem::testing::genericPosixInstalled()) {
    // A generic POSIX system cannot list a process's mappings: no process, and still clean.
    EXPECT_EQ(text.find("role=\"self\""), std::string::npos);
    EXPECT_TRUE(document["self"].is_null());
  } else {
    EXPECT_NE(text.find("role=\"self\""), std::string::npos) << "the process itself is read";
    EXPECT_EQ(document["self"]["pid"], first.self.pid);
  }
  const Snapshot second = monitor.snapshot();
  EXPECT_EQ(checkCountersMonotonic(text, toPrometheus(second)), std::vector<std::string>{});
}

// docs/monitoring.md lists every family we write (the kernel's counters by their pattern).
TEST(Exposition, DocsListEveryFamily) {
  const std::string docs = readFile(std::string(XMEM_SOURCE_DIR) + "/docs/monitoring.md");
  ASSERT_NE(docs.find("## Metrics"), std::string::npos);
  for (const auto& name : typeLines(toPrometheus(goldenSnapshot()))) {
    if (name.starts_with("xmem_kernel_") && name.ends_with("_total")) continue;
    EXPECT_NE(docs.find("| `" + name + "` |"), std::string::npos) << name << " is not in docs/monitoring.md";
  }
  EXPECT_NE(docs.find("| `xmem_kernel_<counter>_total` |"), std::string::npos);
}

// --- the lint: one planted problem each ---

// The problems checkExposition finds in `text`, which must be exactly one, containing `expected`.
void expectOneProblem(const std::string& text, const std::string& expected) {
  const auto problems = checkExposition(text);
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_NE(problems[0].find(expected), std::string::npos) << problems[0];
}

const std::string kGauge = "# HELP a_bytes help\n# TYPE a_bytes gauge\n";
const std::string kOther = "# HELP b_bytes help\n# TYPE b_bytes gauge\nb_bytes 1\n";

TEST(ExpositionCheck, CleanTextHasNoProblems) {
  EXPECT_EQ(checkExposition(kGauge + "a_bytes{x=\"1\",y=\"2\"} 1\na_bytes{x=\"2\"} NaN 1700000000000\n" + kOther),
            std::vector<std::string>{});
  EXPECT_EQ(checkExposition(""), std::vector<std::string>{});
}

TEST(ExpositionCheck, DuplicateSeriesWhateverTheLabelOrder) {
  expectOneProblem(kGauge + "a_bytes{x=\"1\",y=\"2\"} 1\na_bytes{y=\"2\",x=\"1\"} 2\n",
                   "duplicate series a_bytes{x=\"1\",y=\"2\"}");
}

TEST(ExpositionCheck, FamilySplitInTwoGroups) {
  expectOneProblem(kGauge + "a_bytes{x=\"1\"} 1\n" + kOther + "a_bytes{x=\"2\"} 1\n", "family a_bytes is split");
}

TEST(ExpositionCheck, SampleBeforeItsType) {
  expectOneProblem("a_bytes 1\n# TYPE a_bytes gauge\n", "TYPE of a_bytes comes after its samples");
}

TEST(ExpositionCheck, SecondType) {
  expectOneProblem(kGauge + "# TYPE a_bytes gauge\na_bytes 1\n", "a second TYPE for a_bytes");
}

TEST(ExpositionCheck, SecondHelp) {
  expectOneProblem(kGauge + "# HELP a_bytes again\na_bytes 1\n", "a second HELP for a_bytes");
}

TEST(ExpositionCheck, ReservedLabelName) {
  expectOneProblem(kGauge + "a_bytes{__node=\"1\"} 1\n", "label name \"__node\" starts with __");
}

TEST(ExpositionCheck, InvalidMetricName) { expectOneProblem("a-bytes 1\n", "metric name \"a-bytes\" is not valid"); }

TEST(ExpositionCheck, InvalidLabelName) {
  expectOneProblem(kGauge + "a_bytes{1node=\"1\"} 1\n", "label name \"1node\" is not valid");
}

TEST(ExpositionCheck, DuplicateLabelName) {
  expectOneProblem(kGauge + "a_bytes{x=\"1\",x=\"2\"} 1\n", "label \"x\" appears twice");
}

TEST(ExpositionCheck, BadEscapeInLabelValue) {
  expectOneProblem(kGauge + "a_bytes{x=\"a\\tb\"} 1\n", "bad escape \\t");
}

TEST(ExpositionCheck, BadEscapeInHelp) {
  expectOneProblem("# HELP a_bytes tab\\t\n# TYPE a_bytes gauge\na_bytes 1\n", "bad escape \\t in the HELP of a_bytes");
}

TEST(ExpositionCheck, MissingFinalNewline) { expectOneProblem(kGauge + "a_bytes 1", "does not end in a newline"); }

TEST(ExpositionCheck, CarriageReturn) { expectOneProblem(kGauge + "a_bytes 1\r\n", "carriage return"); }

TEST(ExpositionCheck, CounterWithoutTotal) {
  expectOneProblem("# TYPE a_requests counter\na_requests 1\n", "counter a_requests does not end in _total");
}

TEST(ExpositionCheck, TotalOnAGauge) {
  expectOneProblem("# TYPE a_requests_total gauge\na_requests_total 1\n",
                   "a_requests_total ends in _total but is a gauge");
}

TEST(ExpositionCheck, HistogramWithoutInfBucket) {
  const std::string histogram = "# TYPE a_seconds histogram\na_seconds_bucket{le=\"0.5\"} 1\n";
  const std::string totals = "a_seconds_sum 0.2\na_seconds_count 1\n";
  EXPECT_EQ(checkExposition(histogram + "a_seconds_bucket{le=\"+Inf\"} 1\n" + totals), std::vector<std::string>{});
  expectOneProblem(histogram + totals, "histogram a_seconds{} has no le=\"+Inf\" bucket");
}

TEST(ExpositionCheck, NotUtf8) { expectOneProblem(kGauge + "a_bytes{x=\"\xff\"} 1\n", "line 3: not valid UTF-8"); }

TEST(ExpositionCheck, ValueThatIsNotANumber) {
  expectOneProblem(kGauge + "a_bytes 12kB\n", "value \"12kB\" is not a number");
}

TEST(ExpositionCheck, UnknownType) { expectOneProblem("# TYPE a_bytes meter\n", "expected counter, gauge"); }

// --- counters across two scrapes ---

TEST(ExpositionCheck, CountersThatGoDown) {
  const std::string type = "# TYPE a_total counter\n";
  const std::string gauge = "# TYPE g_bytes gauge\n";
  const auto problems = checkCountersMonotonic(
      type + "a_total{x=\"1\"} 5\na_total{x=\"2\"} 5\n" + gauge + "g_bytes 9\n",
      type + "a_total{x=\"2\"} 6\na_total{x=\"1\"} 4\na_total{x=\"3\"} 0\n" + gauge + "g_bytes 1\n");
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems[0], "counter a_total{x=\"1\"} went down from 5 to 4");
}

TEST(ExpositionCheck, HistogramBucketsThatGoDown) {
  const std::string type = "# TYPE a_seconds histogram\n";
  const auto problems =
      checkCountersMonotonic(type + "a_seconds_bucket{le=\"+Inf\"} 3\na_seconds_count 3\na_seconds_sum 1\n",
                             type + "a_seconds_bucket{le=\"+Inf\"} 2\na_seconds_count 3\na_seconds_sum 0.5\n");
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_NE(problems[0].find("a_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
}

TEST(ExpositionCheck, SnapshotCountersGrowingAreMonotonic) {
  Snapshot before = goldenSnapshot();
  Snapshot after = before;
  after.pools[0].allocations += 10;
  after.kernel.counters["thp_fault_fallback"] += 1;
  EXPECT_EQ(checkCountersMonotonic(toPrometheus(before), toPrometheus(after)), std::vector<std::string>{});
  after.pools[1].failures[1] = 0;  // a pool made again from scratch
  const auto problems = checkCountersMonotonic(toPrometheus(before), toPrometheus(after));
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_NE(problems[0].find("xmem_pool_failures_total{node=\"1\",pool=\"scratchpads\",reason=\"full\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace xmem
