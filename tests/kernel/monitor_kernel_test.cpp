// The monitor against the real kernel: what an allocation got (hugetlb confirmed, THP measured),
// what xmem reserved and will put back, this process's own mappings, and bandwidth measured.
#include "kernel/kernel_test.h"
#include "mapping/allocation_registry.h"
#include "os/os.h"

#include <xmem/huge_pages.h>
#include <xmem/memory_pool.h>
#include <xmem/monitor.h>
#include <xmem/topology.h>

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <iostream>

namespace xmem::testing {
namespace {

class MonitorKernel : public KernelTest {};

const AllocationStats* named(const std::vector<AllocationStats>& all, const std::string& name) {
  auto found = std::find_if(all.begin(), all.end(), [&](const AllocationStats& stats) { return stats.name == name; });
  return found == all.end() ? nullptr : &*found;
}

std::size_t bytesOf(const std::vector<BackedBytes>& parts, Backing backing) {
  std::size_t total = 0;
  for (const auto& part : parts)
    if (part.backing == backing) total += part.bytes;
  return total;
}

TEST_F(MonitorKernel, TransparentHugePagesOfAnAllocationAreMeasured) {
  if (!SystemInfo::get()->thp.usable()) GTEST_SKIP() << "THP is off on this machine";
  VirtualMemoryOptions options;
  options.size = 32 * MiB;
  options.hugePages = false;
  options.prefaultThreads = 1;
  options.name = "monitor-thp";
  VirtualMemory memory(options);
  const auto thp = kernelThpBytes(memory.data(), memory.size());
  const auto listed = allocationStatistics();
  const AllocationStats* stats = named(listed, "monitor-thp");
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(bytesOf(stats->parts, Backing::Transparent), thp) << "the kernel's figure, measured now";
  EXPECT_EQ(bytesOf(stats->parts, Backing::Transparent) + bytesOf(stats->parts, Backing::Base), memory.mappedSize());
  EXPECT_TRUE(stats->prefaulted);
  EXPECT_EQ(stats->health, thp == memory.mappedSize() ? Health::Green : thp == 0 ? Health::Red : Health::Yellow);
  std::cout << "[ NOTE     ] " << formatBytes(thp) << " of 32 MiB on THP; " << toString(stats->health) << " " << stats->reason << '\n';
}

TEST_F(MonitorKernel, HugeTlbPagesAndWhatXmemReservedAreShown) {
  XMEM_REQUIRE_NATIVE_PLATFORM("reserves huge pages");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages");
  const auto state = std::filesystem::temp_directory_path() / ("xmem-monitor-state-" + std::to_string(::getpid()));
  ::setenv(kStateDirVariable, state.c_str(), 1);
  {
    HugePageCounts found;
    ASSERT_TRUE(os::current().hugePageCounts(kHugePageSize, std::nullopt, found));
    ScopedFreeHugePages pages;  // may lower the count as well as raise it: exactly 4 free
    ASSERT_TRUE(pages.makeFree(kHugePageSize, 4).complete());
    VirtualMemoryOptions options;
    options.size = 8 * MiB;
    options.name = "monitor-hugetlb";
    VirtualMemory memory(options);
    Monitor monitor({.cacheFor = std::chrono::milliseconds(0)});
    const Snapshot snapshot = monitor.snapshot();

    const AllocationStats* stats = named(snapshot.allocations, "monitor-hugetlb");
    ASSERT_NE(stats, nullptr);
    EXPECT_EQ(stats->parts, (std::vector<BackedBytes>{{Backing::HugeTlb, 2 * MiB, 8 * MiB}}));
    EXPECT_EQ(stats->health, Health::Green) << stats->reason;

    auto system = std::find_if(snapshot.pagePools.begin(), snapshot.pagePools.end(),
                               [](const PagePoolStats& pool) { return pool.pageSize == 2 * MiB && !pool.node; });
    ASSERT_NE(system, snapshot.pagePools.end());
    EXPECT_TRUE(system->restoredOnRelease) << "ScopedFreeHugePages records what it changed";
    EXPECT_EQ(system->countBeforeXmem, found.total) << "the count xmem found first";
    EXPECT_EQ(system->addedByXmem, system->counts.total > found.total ? system->counts.total - found.total : 0);

    // This process's own mapping of it, read as any watched process's.
    auto own = std::find_if(snapshot.self.mappings.begin(), snapshot.self.mappings.end(), [&](const ProcessMappingStats& m) {
      return m.start == reinterpret_cast<std::uintptr_t>(memory.data());
    });
    ASSERT_NE(own, snapshot.self.mappings.end());
    EXPECT_EQ(bytesOf(own->parts, Backing::HugeTlb), 0U) << "not touched yet: nothing resident";
    std::fill_n(memory.data(), memory.size(), 1);
    Monitor again({.cacheFor = std::chrono::milliseconds(0)});
    const auto touched = again.snapshot();
    own = std::find_if(touched.self.mappings.begin(), touched.self.mappings.end(), [&](const ProcessMappingStats& m) {
      return m.start == reinterpret_cast<std::uintptr_t>(memory.data());
    });
    ASSERT_NE(own, touched.self.mappings.end());
    EXPECT_EQ(bytesOf(own->parts, Backing::HugeTlb), 8 * MiB);
    EXPECT_GE(touched.self.hugeTlbBytes, 8 * MiB);
  }
  std::filesystem::remove_all(state);
  ::unsetenv(kStateDirVariable);
}

TEST_F(MonitorKernel, BandwidthIsMeasuredOnEveryNodePair) {
  BandwidthOptions options;
  options.bufferBytes = 16 * MiB;  // small: this checks the measurement, it is not one
  options.repetitions = 3;
  const auto before = std::chrono::system_clock::now();
  const BandwidthMatrix matrix = measureBandwidth(options);
  const auto nodes = Topology::get()->size();
  ASSERT_EQ(matrix.figures.size(), nodes * nodes * 3);
  EXPECT_GE(matrix.measuredAt, before);
  EXPECT_GT(matrix.took.count(), 0);
  for (const auto& figure : matrix.figures) {
    EXPECT_GT(figure.medianBytesPerSecond, 0) << figure.kernel;
    EXPECT_GE(figure.bestBytesPerSecond, figure.medianBytesPerSecond) << figure.kernel;
    EXPECT_EQ(figure.bufferBytes, 16 * MiB);
    EXPECT_EQ(figure.repetitions, 3U);
    EXPECT_GE(figure.threads, 1U);
    std::cout << "[ NOTE     ] node " << figure.cpuNode << " -> " << figure.memoryNode << " " << figure.kernel << ": "
              << figure.bestBytesPerSecond / 1e9 << " GB/s best\n";
  }
}

// A program that forks while a monitor copies xmem's lists (the in-process server's history
// thread does every few seconds): its children can still allocate and make pools.
TEST_F(MonitorKernel, ChildrenForkedWhileAMonitorReadsCanAllocate) {
  // Some records and a pool, so that copying them takes a while under the lock.
  std::vector<VirtualMemory*> listed;
  for (int i = 0; i < 64; ++i) {
    VirtualMemoryOptions options;
    options.size = 64 * KiB;
    options.hugePages = options.transparentHugePages = false;
    listed.push_back(new VirtualMemory(options));
  }
  MemoryPoolOptions poolOptions;
  poolOptions.capacity = 2 * MiB;
  poolOptions.hugePages = false;
  MemoryPool listedPool(poolOptions);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    // The lists' locks, taken back to back: a fork lands inside one often.
    while (!stop.load()) {
      (void)AllocationRegistry::instance().records();
      (void)livePoolStats();
    }
  });
  int stuck = 0;
  int forks = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       std::chrono::steady_clock::now() < deadline; ++forks) {
    const pid_t child = ::fork();
    if (child == 0) {
      VirtualMemoryOptions options;
      options.size = 2 * MiB;
      options.hugePages = false;
      VirtualMemory memory(options);
      MemoryPoolOptions pool;
      pool.capacity = 2 * MiB;
      pool.hugePages = false;
      MemoryPool chunks(pool);
      std::_Exit(memory.data() != nullptr ? 0 : 1);
    }
    int status = 0;
    const auto waitUntil = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    pid_t done = 0;
    while ((done = ::waitpid(child, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < waitUntil)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (done == 0) {
      ++stuck;
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
    }
  }
  stop = true;
  reader.join();
  for (auto* memory : listed) delete memory;
  std::cout << "[ NOTE     ] " << forks << " children forked while a thread read the allocation and pool lists\n";
  EXPECT_EQ(stuck, 0) << "children that never finished allocating, of " << forks;
  EXPECT_GT(forks, 10);
}

}  // namespace
}  // namespace xmem::testing
