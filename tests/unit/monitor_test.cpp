// The monitor on the fake platform: two nodes, a watched process with each kind of mapping, the
// kernel's buddy lists and counters, the preload's published records, and the cache of readings.
#include "monitor/process_stats.h"
#include "monitor/published_records.h"
#include "support/fake_platform.h"

#include <xmem/exposition.h>
#include <xmem/monitor.h>
#include <xmem/snapshot.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace xmem::testing {
namespace {

MappingUsage area(std::uintptr_t start, std::size_t size, std::string name = {}) {
  MappingUsage usage;
  usage.start = start;
  usage.end = start + size;
  usage.name = std::move(name);
  usage.kernelPageSize = 4 * KiB;
  return usage;
}

// A miner as the kernel would show it: its dataset on 1 GiB pages on node 1, a THP heap half huge,
// scratchpads on 4 KiB pages that never asked for THP, and a library.
ProcessUsage miner() {
  ProcessUsage usage;
  usage.pid = 4242;
  usage.command = "xmrig";
  usage.residentBytes = 1 * GiB + 96 * MiB;
  usage.hugeTlbBytes = 1 * GiB;
  auto dataset = area(0x40000000, 1 * GiB, "/anon_hugepage (deleted)");
  dataset.kernelPageSize = 1 * GiB;
  dataset.hugeTlbBytes = 1 * GiB;
  dataset.bytesByNode = {{1, 1 * GiB}};
  auto heap = area(0x80000000, 64 * MiB);
  heap.residentBytes = 64 * MiB;
  heap.anonHugePages = 32 * MiB;
  heap.thpEligible = heap.thpAdvised = true;
  heap.bytesByNode = {{0, 64 * MiB}};
  auto scratchpads = area(0x90000000, 32 * MiB, "[anon:scratchpads]");
  scratchpads.residentBytes = 32 * MiB;
  scratchpads.thpEligible = true;
  scratchpads.bytesByNode = {{0, 32 * MiB}};
  auto library = area(0xa0000000, 4 * MiB, "/usr/lib/libc.so.6");
  library.residentBytes = 4 * MiB;
  usage.mappings = {dataset, heap, scratchpads, library, area(0xb0000000, 8 * KiB)};
  return usage;
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_.setNodes(2);
    platform_.processes[4242] = miner();
    platform_.counters.events = {{"thp_fault_alloc", 10}, {"thp_fault_fallback", 3}};
    // Node 1: 10 free 4 KiB pages, 2 blocks of 2 MiB, 1 of 4 MiB.
    platform_.counters.buddy = {{0, "Normal", {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
                                {1, "Normal", {10, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1}}};
  }
  FakePlatform platform_;
  os::ScopedPlatform scoped_{platform_};
};

TEST_F(MonitorTest, WatchedProcessByPageSizeAndNodeWithReasons) {
  Monitor monitor({.cacheFor = std::chrono::milliseconds(0), .minMappingBytes = 2 * MiB, .includeSelf = false});
  monitor.watch(4242);
  const Snapshot snapshot = monitor.snapshot();
  ASSERT_EQ(snapshot.processes.size(), 1U);
  const ProcessStats& process = snapshot.processes[0];
  EXPECT_EQ(process.command, "xmrig");
  EXPECT_TRUE(process.error.empty()) << process.error;
  ASSERT_EQ(process.mappings.size(), 4U) << "the 8 KiB mapping is below the minimum";

  const auto& dataset = process.mappings[0];
  EXPECT_EQ(dataset.parts, (std::vector<BackedBytes>{{Backing::HugeTlb, 1 * GiB, 1 * GiB}}));
  EXPECT_EQ(dataset.bytesByNode.at(1), 1 * GiB);
  EXPECT_EQ(dataset.health, Health::Green);

  const auto& heap = process.mappings[1];
  EXPECT_EQ(heap.parts, (std::vector<BackedBytes>{{Backing::Transparent, 2 * MiB, 32 * MiB}, {Backing::Base, 4 * KiB, 32 * MiB}}));
  EXPECT_EQ(heap.health, Health::Yellow);
  EXPECT_NE(heap.reason.find("no free 2 MiB block"), std::string::npos) << heap.reason;

  const auto& scratchpads = process.mappings[2];
  EXPECT_EQ(scratchpads.health, Health::Red);
  EXPECT_NE(scratchpads.reason.find("did not ask for it (no MADV_HUGEPAGE"), std::string::npos) << scratchpads.reason;

  const auto& library = process.mappings[3];
  EXPECT_EQ(library.health, Health::Green) << "file mappings are not judged";

  // 1 GiB + 32 MiB of 1 GiB + 96 MiB data on huge pages.
  EXPECT_EQ(process.health, Health::Yellow);
  EXPECT_NE(process.reason.find("1056 MiB of 1120 MiB"), std::string::npos) << process.reason;
  EXPECT_NE(process.reason.find("the largest other one (64 MiB)"), std::string::npos) << process.reason;
}

TEST_F(MonitorTest, ThpOffIsTheReasonWhenTheKernelHasItOff) {
  platform_.machine.thp.mode = ThpMode::Never;
  const ProcessStats stats = monitoring::processStats(miner(), platform_.machine.thp, 2 * MiB);
  EXPECT_NE(stats.mappings[2].reason.find("transparent huge pages are off (never)"), std::string::npos) << stats.mappings[2].reason;
}

TEST_F(MonitorTest, AProcessThatCannotBeReadSaysWhy) {
  Monitor monitor({.cacheFor = std::chrono::milliseconds(0), .includeSelf = false});
  monitor.watch(999);
  platform_.processErrno[1000] = 13;
  monitor.watch(1000);
  const Snapshot snapshot = monitor.snapshot();
  ASSERT_EQ(snapshot.processes.size(), 2U);
  EXPECT_NE(snapshot.processes[0].error.find("cannot read process 999"), std::string::npos) << snapshot.processes[0].error;
  EXPECT_EQ(snapshot.processes[0].health, Health::Red);
  EXPECT_NE(snapshot.processes[1].error.find("process 1000"), std::string::npos);
  EXPECT_NE(snapshot.processes[1].error, snapshot.processes[0].error) << "no such process vs. no permission";
  monitor.unwatch(999);
  EXPECT_EQ(monitor.watched(), (std::vector<std::int64_t>{1000}));
}

TEST_F(MonitorTest, FragmentationFromTheBuddyLists) {
  Monitor monitor({.cacheFor = std::chrono::milliseconds(0), .includeSelf = false});
  const Snapshot snapshot = monitor.snapshot();
  ASSERT_EQ(snapshot.kernel.fragmentation.size(), 2U);
  const auto& node1 = snapshot.kernel.fragmentation[1];
  EXPECT_EQ(node1.node, 1U);
  EXPECT_EQ(node1.hugePageBlocks, 4U) << "2 blocks of order 9 + 1 of order 10 (two 2 MiB pages)";
  // 10 + 2 * 512 + 1024 free pages; all but the 10 are in blocks of 2 MiB or more.
  EXPECT_DOUBLE_EQ(node1.unusableFreeIndex, 10.0 / (10 + 2 * 512 + 1024));
  EXPECT_DOUBLE_EQ(snapshot.kernel.fragmentation[0].unusableFreeIndex, 1.0) << "4 free pages, no 2 MiB block";
  EXPECT_EQ(snapshot.kernel.counters.at("thp_fault_fallback"), 3U);
  EXPECT_NE(snapshot.kernel.oneGbAvailability.find("cannot be read"), std::string::npos);
  EXPECT_EQ(snapshot.hostname, "fake");
  EXPECT_EQ(snapshot.schemaVersion, kSnapshotSchemaVersion);
}

TEST_F(MonitorTest, KernelReadingsAreReusedForTheirCacheTime) {
  Monitor cached({.cacheFor = std::chrono::hours(1), .includeSelf = false});
  Monitor uncached({.cacheFor = std::chrono::milliseconds(0), .includeSelf = false});
  cached.watch(4242);
  (void)cached.snapshot();
  (void)uncached.snapshot();
  platform_.counters.events["thp_fault_fallback"] = 7;
  platform_.processes[4242].command = "renamed";
  const Snapshot again = cached.snapshot();
  EXPECT_EQ(again.kernel.counters.at("thp_fault_fallback"), 3U) << "read within the hour: the cached value";
  EXPECT_EQ(again.processes.at(0).command, "xmrig");
  EXPECT_EQ(uncached.snapshot().kernel.counters.at("thp_fault_fallback"), 7U);
}

TEST_F(MonitorTest, PagePoolsPerNodeAndSize) {
  platform_.setHugePages(2 * MiB, 1, 16);
  Monitor monitor({.cacheFor = std::chrono::milliseconds(0), .includeSelf = false});
  const Snapshot snapshot = monitor.snapshot();
  auto found = std::find_if(snapshot.pagePools.begin(), snapshot.pagePools.end(),
                            [](const PagePoolStats& pool) { return pool.pageSize == 2 * MiB && pool.node == 1U; });
  ASSERT_NE(found, snapshot.pagePools.end());
  EXPECT_EQ(found->counts.free, 16U);
}

TEST_F(MonitorTest, RandomxHashrateGivesItsDatasetBandwidth) {
  Monitor monitor({.includeSelf = false});
  monitor.setRandomxHashrate(1000);
  const Snapshot snapshot = monitor.snapshot();
  ASSERT_TRUE(snapshot.randomx);
  EXPECT_DOUBLE_EQ(snapshot.randomx->bytesPerSecond, 1000.0 * 1024 * 1024) << "1 MiB per hash";
}

// ---- the preload's published records

// A slot's bytes as the preload writes them.
std::string slot(std::uint64_t sequence, std::uint64_t address, std::uint64_t requested) {
  published::Slot out{};
  out.sequence.store(sequence);
  out.address = address;
  out.requestedBytes = requested;
  out.mappedBytes = requested;
  out.nodeAsked = -1;
  std::memcpy(out.source, "mapping", 8);
  return {reinterpret_cast<const char*>(&out), sizeof(out)};
}

std::string publishedArea(const std::vector<std::string>& slots) {
  published::Header header{};
  std::memcpy(header.magic, published::kMagic, sizeof(header.magic));
  header.version = published::kFormatVersion;
  header.slotCount = static_cast<std::uint32_t>(slots.size());
  header.slotSize = sizeof(published::Slot);
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
  for (const auto& one : slots) bytes += one;
  return bytes;
}

TEST(PublishedRecords, WholeAndUnchangedSlotsOnly) {
  const std::vector<std::string> first = {
      slot(2, 0x200000, 64 * MiB),  // whole
      slot(3, 0x400000, 32 * MiB),  // being written
      slot(4, 0, 0),                // freed
      slot(6, 0x600000, 16 * MiB),  // changes before the second read
  };
  std::vector<std::string> second = first;
  second[3] = slot(8, 0x600000, 16 * MiB);
  const auto records = monitoring::parsePublishedRecords(publishedArea(first), publishedArea(second));
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].address, 0x200000U);
  EXPECT_EQ(records[0].requestedBytes, 64 * MiB);
  EXPECT_EQ(records[0].source, "mapping");
  EXPECT_FALSE(records[0].nodeAsked);
}

TEST(PublishedRecords, AnythingElseIsNoRecords) {
  EXPECT_TRUE(monitoring::parsePublishedRecords("", "").empty());
  std::string wrong = publishedArea({slot(2, 0x200000, MiB)});
  wrong[0] = 'Y';
  EXPECT_TRUE(monitoring::parsePublishedRecords(wrong, wrong).empty());
  std::string cut = publishedArea({slot(2, 0x200000, MiB)});
  cut.resize(cut.size() - 1);  // the slot does not fit: left out, nothing read past the end
  EXPECT_TRUE(monitoring::parsePublishedRecords(cut, cut).empty());
}

TEST_F(MonitorTest, AWatchedProcessUnderThePreloadShowsItsRecords) {
  platform_.publishedRecords[{4242, published::kPublishedRecordsName}] = publishedArea({slot(2, 0x40000000, GiB)});
  Monitor monitor({.cacheFor = std::chrono::milliseconds(0), .includeSelf = false});
  monitor.watch(4242);
  const auto snapshot = monitor.snapshot();
  ASSERT_EQ(snapshot.processes.size(), 1U);
  EXPECT_TRUE(snapshot.processes[0].underPreload);
  ASSERT_EQ(snapshot.processes[0].preload.size(), 1U);
  EXPECT_EQ(snapshot.processes[0].preload[0].requestedBytes, GiB);
  // What it got, measured from the process's mapping over its range: the dataset's 1 GiB page on node 1.
  EXPECT_EQ(snapshot.processes[0].preload[0].parts, (std::vector<BackedBytes>{{Backing::HugeTlb, GiB, GiB}}));
  EXPECT_EQ(snapshot.processes[0].preload[0].bytesByNode, (std::map<std::uint32_t, std::size_t>{{1, GiB}}));
}

TEST_F(MonitorTest, TheServerLeftOutIsNullInJsonNotAProcessZero) {
  Monitor monitor({.includeSelf = false});
  EXPECT_NE(toJson(monitor.snapshot(), SnapshotPart::Processes).find("\"self\":null"), std::string::npos);
}

TEST(Bandwidth, UnknownKernelsAndNodesAreNamed) {
  try {
    (void)measureBandwidth({.kernels = {"scale"}});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("\"scale\": expected read, copy or triad"), std::string::npos) << error.what();
  }
  try {
    (void)measureBandwidth({.cpuNodes = {77}});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("CPU node 77"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace xmem::testing
