// xmem's own records a monitor reads: the live allocations and the live pools, with what a pool
// counts for monitoring (failures by reason, largest free block, fallbacks between nodes).
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/monitor.h>
#include <xmem/numa_memory_pool.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

namespace xmem {
namespace {

using testing::FakePlatform;

class Records : public ::testing::Test {
 protected:
  void SetUp() override { BackoffTable::instance().reset(); }
  void TearDown() override { EXPECT_THAT(fake.violations(), ::testing::IsEmpty()); }
  FakePlatform fake;
  os::ScopedPlatform scoped{fake};
};

const AllocationStats* named(const std::vector<AllocationStats>& all, const std::string& name) {
  auto found = std::find_if(all.begin(), all.end(), [&](const AllocationStats& stats) { return stats.name == name; });
  return found == all.end() ? nullptr : &*found;
}

// A copy: the statistics are a temporary vector.
std::optional<PoolNodeStats> pool(const std::vector<PoolNodeStats>& all, const std::string& name, std::uint32_t node = 0) {
  auto found = std::find_if(all.begin(), all.end(), [&](const PoolNodeStats& p) { return p.pool == name && p.node == node; });
  return found == all.end() ? std::nullopt : std::optional<PoolNodeStats>(*found);
}

TEST_F(Records, LiveAllocationsAreListedWithWhatTheyGot) {
  fake.setHugePages(2 * MiB, 0, 2);
  VirtualMemoryOptions options;
  options.size = 8 * MiB;
  options.name = "dataset";
  options.node = 0;
  std::optional<VirtualMemory> memory(std::in_place, options);
  const auto listed = allocationStatistics();
  const AllocationStats* dataset = named(listed, "dataset");
  ASSERT_NE(dataset, nullptr);
  EXPECT_EQ(dataset->address, reinterpret_cast<std::uintptr_t>(memory->data()));
  EXPECT_EQ(dataset->requestedBytes, 8 * MiB);
  EXPECT_EQ(dataset->nodeAsked, 0U);
  // 2 free 2 MiB pages: 4 MiB on them, the rest on base pages (THP unmeasured on the fake).
  ASSERT_FALSE(dataset->parts.empty());
  EXPECT_EQ(dataset->parts[0], (BackedBytes{Backing::HugeTlb, 2 * MiB, 4 * MiB}));
  EXPECT_EQ(dataset->health, Health::Yellow);
  EXPECT_THAT(dataset->reason, ::testing::HasSubstr("4 MiB of 8 MiB on huge pages"));

  VirtualMemory moved = std::move(*memory);
  memory.reset();
  EXPECT_NE(named(allocationStatistics(), "dataset"), nullptr) << "a move keeps it listed once";
  const auto afterMove = allocationStatistics();
  EXPECT_EQ(std::count_if(afterMove.begin(), afterMove.end(), [](const auto& s) { return s.name == "dataset"; }), 1);
  (void)moved.detach();
  EXPECT_EQ(named(allocationStatistics(), "dataset"), nullptr) << "detached: the caller keeps its own books";
  VirtualMemory::unmapDetached(moved.data(), moved.mappedSize());
}

TEST_F(Records, AFreedAllocationLeavesTheList) {
  VirtualMemoryOptions options;
  options.size = 4 * MiB;
  options.name = "short-lived";
  { VirtualMemory memory(options); }
  EXPECT_EQ(named(allocationStatistics(), "short-lived"), nullptr);
}

TEST_F(Records, PoolsCountFailuresByReasonAndTheirLargestFreeBlock) {
  MemoryPoolOptions options;
  options.capacity = 8 * MiB;
  options.grow = false;
  options.name = "scratchpads";
  MemoryPool scratch(options);
  auto* first = scratch.allocate(2 * MiB);
  auto* second = scratch.allocate(2 * MiB);
  EXPECT_FALSE(scratch.tryAllocate(0).ok());
  EXPECT_FALSE(scratch.tryAllocate(128 * MiB).ok());
  EXPECT_TRUE(scratch.tryAllocate(4 * MiB).ok());
  EXPECT_FALSE(scratch.tryAllocate(2 * MiB).ok()) << "full, and it may not grow";
  ASSERT_TRUE(scratch.deallocate(first, 2 * MiB));

  const auto stats = pool(poolStatistics(), "scratchpads");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->capacityBytes, 8 * MiB);
  EXPECT_EQ(stats->inUseBytes, 6 * MiB);
  EXPECT_EQ(stats->freeBytes, 2 * MiB);
  EXPECT_EQ(stats->largestFreeBlockBytes, 2 * MiB) << "the freed chunk, listed for its class";
  EXPECT_DOUBLE_EQ(stats->fragmentation, 0.0) << "the free memory is one piece";
  EXPECT_EQ(stats->failures[static_cast<std::size_t>(PoolFailure::BadSize)], 2U);
  EXPECT_EQ(stats->failures[static_cast<std::size_t>(PoolFailure::Full)], 1U);
  EXPECT_EQ(stats->failures[static_cast<std::size_t>(PoolFailure::NoMemory)], 0U);
  EXPECT_EQ(stats->allocations, 3U);
  EXPECT_EQ(stats->releases, 1U);
  ASSERT_TRUE(scratch.deallocate(second, 2 * MiB));
}

TEST_F(Records, FreeSpaceInPiecesIsFragmented) {
  MemoryPoolOptions options;
  options.capacity = 8 * MiB;
  options.grow = false;
  options.name = "pieces";
  MemoryPool pieces(options);
  std::vector<std::uint8_t*> chunks;
  for (int i = 0; i < 4; ++i) chunks.push_back(pieces.allocate(2 * MiB));
  ASSERT_TRUE(pieces.deallocate(chunks[0], 2 * MiB));
  ASSERT_TRUE(pieces.deallocate(chunks[2], 2 * MiB));
  const auto stats = pool(poolStatistics(), "pieces");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->freeBytes, 4 * MiB);
  EXPECT_EQ(stats->largestFreeBlockBytes, 2 * MiB);
  EXPECT_DOUBLE_EQ(stats->fragmentation, 0.5) << "1 - 2 MiB largest / 4 MiB free";
  for (auto* chunk : {chunks[1], chunks[3]}) ASSERT_TRUE(pieces.deallocate(chunk, 2 * MiB));
}

TEST_F(Records, AdjacentFreedChunksAreOneFreeBlock) {
  MemoryPoolOptions options;
  options.capacity = 8 * MiB;
  options.grow = false;
  options.name = "adjacent";
  MemoryPool adjacent(options);
  std::vector<std::uint8_t*> chunks;
  for (int i = 0; i < 4; ++i) chunks.push_back(adjacent.allocate(2 * MiB));
  ASSERT_TRUE(adjacent.deallocate(chunks[1], 2 * MiB));
  ASSERT_TRUE(adjacent.deallocate(chunks[2], 2 * MiB));
  const auto stats = pool(poolStatistics(), "adjacent");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->largestFreeBlockBytes, 4 * MiB) << "two freed neighbours: a 4 MiB request fits without growing";
  EXPECT_DOUBLE_EQ(stats->fragmentation, 0.0);
  auto four = adjacent.tryAllocate(4 * MiB);
  ASSERT_TRUE(four.ok()) << "the figure said it fits: " << four.error().what();
  ASSERT_TRUE(adjacent.deallocate(four.value(), 4 * MiB));
  for (auto* chunk : {chunks[0], chunks[3]}) ASSERT_TRUE(adjacent.deallocate(chunk, 2 * MiB));
}

TEST_F(Records, SmallChunksAllFreedLeaveNoFragmentation) {
  MemoryPoolOptions options;
  options.capacity = 4 * MiB;
  options.grow = false;
  options.name = "small";
  MemoryPool small(options);
  std::vector<std::uint8_t*> chunks;
  for (int i = 0; i < 32; ++i) chunks.push_back(small.allocate(64 * KiB));
  for (auto* chunk : chunks) ASSERT_TRUE(small.deallocate(chunk, 64 * KiB));
  const auto stats = pool(poolStatistics(), "small");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->largestFreeBlockBytes, 4 * MiB) << "a block with no live chunk is free for any class";
  EXPECT_DOUBLE_EQ(stats->fragmentation, 0.0);
}

TEST_F(Records, NodeFallbacksShowOnBothNodesPools) {
  fake.setNodes(2);
  MemoryPoolOptions perNode;
  perNode.capacity = 8 * MiB;  // 4 MiB per node
  perNode.grow = false;
  perNode.name = "numa";
  NumaMemoryPool numa(perNode, Topology::fromDistances({0, 1}, {{10, 20}, {20, 10}}));
  std::vector<NodeChunk> chunks;
  for (int i = 0; i < 3; ++i) {
    auto chunk = numa.tryAllocate(2 * MiB, 0);
    ASSERT_TRUE(chunk.ok()) << chunk.error().what();
    chunks.push_back(chunk.value());
  }
  EXPECT_EQ(chunks[2].node, 1U) << "node 0 was full";
  const auto all = poolStatistics();
  const auto home = pool(all, "numa", 0);
  const auto other = pool(all, "numa", 1);
  ASSERT_TRUE(home);
  ASSERT_TRUE(other);
  EXPECT_EQ(home->fallbacksOut, 1U);
  EXPECT_EQ(other->fallbacksIn, 1U);
  for (const auto& chunk : chunks) ASSERT_TRUE(numa.deallocate(chunk.address, 2 * MiB));
}

TEST_F(Records, TrimGivesBackWhatLivePoolsDoNotUse) {
  MemoryPoolOptions options;
  options.capacity = 4 * MiB;
  options.grow = true;
  options.hugePages = false;
  options.name = "trimmed";
  MemoryPool grown(options);
  auto* a = grown.allocate(4 * MiB);
  auto* b = grown.allocate(4 * MiB);  // a second backing mapping
  ASSERT_TRUE(grown.deallocate(b, 4 * MiB));
  Monitor monitor({.includeSelf = false});
  EXPECT_GE(monitor.trimPools(), 4 * MiB);
  ASSERT_TRUE(grown.deallocate(a, 4 * MiB));
}

}  // namespace
}  // namespace xmem
