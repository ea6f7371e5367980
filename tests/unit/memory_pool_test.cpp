// MemoryPool's rules, on the fake platform.
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/memory_pool.h>
#include <xmem/pool_resource.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory_resource>
#include <thread>
#include <vector>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using testing::FakePlatform;

class Pool : public ::testing::Test {
 protected:
  void SetUp() override { BackoffTable::instance().reset(); }
  void TearDown() override {
    destroyGlobalPool();
    EXPECT_THAT(fake.violations(), ::testing::IsEmpty());
  }
  void install() { scoped.emplace(fake); }

  static MemoryPoolOptions options(std::size_t capacity, bool grow = false) {
    MemoryPoolOptions o;
    o.capacity = capacity;
    o.grow = grow;
    return o;
  }
  static std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

  FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(Pool, BadSizesAndAFullPoolAreErrorsThatSayWhy) {
  install();
  EXPECT_THROW(MemoryPool(options(0)), Error);
  MemoryPool pool(options(4 * MiB));
  auto zero = pool.tryAllocate(0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(zero.error().what(), HasSubstr("size 0"));
  auto huge = pool.tryAllocate(65 * MiB);
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error().what(), HasSubstr("65 MiB is above the largest pool chunk (64 MiB)"));

  EXPECT_TRUE(pool.tryAllocate(2 * MiB).ok());
  EXPECT_TRUE(pool.tryAllocate(2 * MiB).ok());
  auto full = pool.tryAllocate(2 * MiB);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::OutOfMemory);
  EXPECT_THAT(full.error().what(), HasSubstr("the pool is full (4 MiB) and growth is off"));
  EXPECT_EQ(pool.get(2 * MiB, 0), nullptr) << "the spec's get() says no with nullptr";
  EXPECT_THROW(pool.allocate(2 * MiB), Error);
  EXPECT_EQ(pool.stats().failedAllocations, 5U);
  EXPECT_EQ(pool.stats().liveChunks, 2U) << "failed requests hold nothing";
}

TEST_F(Pool, ALeaseGivesItsChunkBackWhenItGoes) {
  install();
  auto pool = std::make_shared<MemoryPool>(options(4 * MiB));
  {
    auto lease = PoolLease::take(pool, 2 * MiB, 0);
    ASSERT_TRUE(lease.has_value());
    EXPECT_TRUE(pool->owns(lease->data()));
    EXPECT_EQ(pool->stats().liveChunks, 1U);
    PoolLease moved = std::move(*lease);
    EXPECT_FALSE(*lease) << "a moved-from lease holds nothing";
    EXPECT_EQ(pool->stats().liveChunks, 1U) << "moving gives nothing back";
    auto second = PoolLease::take(pool, 2 * MiB, 0);
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(PoolLease::take(pool, 2 * MiB, 0).has_value()) << "full: nullopt, not a throw";
    second->reset();
    EXPECT_EQ(pool->stats().liveChunks, 1U);
  }
  EXPECT_EQ(pool->stats().liveChunks, 0U);
  EXPECT_EQ(pool->stats().invalidReleases, 0U);
}

TEST_F(Pool, SizesRoundUpToTheirClass) {
  EXPECT_EQ(MemoryPool::classSize(0), 0U);
  EXPECT_EQ(MemoryPool::classSize(1), 64 * KiB);
  EXPECT_EQ(MemoryPool::classSize(64 * KiB + 1), 128 * KiB);
  EXPECT_EQ(MemoryPool::classSize(300 * KiB), 512 * KiB);
  EXPECT_EQ(MemoryPool::classSize(2 * MiB), 2 * MiB);
  EXPECT_EQ(MemoryPool::classSize(64 * MiB), 64 * MiB);
  EXPECT_EQ(MemoryPool::classSize(64 * MiB + 1), 0U);
  install();
  MemoryPool pool(options(8 * MiB));
  auto* chunk = pool.allocate(300 * KiB);
  EXPECT_EQ(address(chunk) % (512 * KiB), 0U);
  auto stats = pool.stats();
  EXPECT_EQ(stats.inUse, 512 * KiB);
  EXPECT_EQ(stats.requested, 300 * KiB);
}

TEST_F(Pool, ChunksAreAlignedDistinctAndInside) {
  install();
  auto o = options(64 * MiB);
  o.alignment = 32 * MiB;
  MemoryPool pool(o);
  std::vector<std::pair<std::uint8_t*, std::size_t>> chunks;
  for (std::size_t size : {2 * MiB, 256 * KiB, 4 * MiB, 64 * KiB, 1 * MiB, 8 * MiB, 256 * KiB, 2 * MiB}) {
    auto* chunk = pool.allocate(size);
    EXPECT_EQ(address(chunk) % std::min(size, 2 * MiB), 0U) << formatBytes(size);
    EXPECT_TRUE(pool.owns(chunk));
    EXPECT_TRUE(pool.owns(chunk + size - 1));
    chunks.emplace_back(chunk, size);
  }
  EXPECT_EQ(address(chunks[0].first) % (32 * MiB), 0U) << "the first chunk starts at the aligned base";
  std::sort(chunks.begin(), chunks.end());
  for (std::size_t i = 1; i < chunks.size(); ++i)
    EXPECT_LE(chunks[i - 1].first + chunks[i - 1].second, chunks[i].first) << "chunks overlap";
  int outside = 0;
  EXPECT_FALSE(pool.owns(&outside));
}

TEST_F(Pool, SmallChunksAreCutFromOneBlock) {
  install();
  MemoryPool pool(options(8 * MiB));
  std::vector<std::uint8_t*> chunks;
  for (int i = 0; i < 8; ++i) chunks.push_back(pool.allocate(256 * KiB));
  auto [low, high] = std::minmax_element(chunks.begin(), chunks.end());
  EXPECT_EQ(*high - *low, static_cast<std::ptrdiff_t>(2 * MiB - 256 * KiB));
  EXPECT_EQ(pool.stats().carved, 2 * MiB);
}

TEST_F(Pool, ReleasedChunksAreReused) {
  install();
  MemoryPool pool(options(8 * MiB));
  auto* first = pool.allocate(2 * MiB);
  auto* second = pool.allocate(2 * MiB);
  ASSERT_TRUE(pool.deallocate(first, 2 * MiB));
  EXPECT_EQ(pool.allocate(2 * MiB), first);
  auto stats = pool.stats();
  EXPECT_EQ(stats.allocations, 3U);
  EXPECT_EQ(stats.releases, 1U);
  EXPECT_EQ(stats.liveChunks, 2U);
  EXPECT_EQ(stats.carved, 4 * MiB) << "the released chunk was reused, not a new one cut";
  (void)second;
}

TEST_F(Pool, BadReleasesAreRefusedAndChangeNothing) {
  install();
  MemoryPool pool(options(8 * MiB));
  auto* chunk = pool.allocate(2 * MiB);
  int foreign = 0;
  EXPECT_FALSE(pool.deallocate(&foreign, 2 * MiB)) << "not the pool's memory";
  EXPECT_FALSE(pool.deallocate(chunk, 256 * KiB)) << "handed out as 2 MiB";
  EXPECT_FALSE(pool.deallocate(chunk + 64 * KiB, 2 * MiB)) << "not the start of a chunk";
  EXPECT_FALSE(pool.deallocate(nullptr, 2 * MiB));
  EXPECT_TRUE(pool.deallocate(chunk, 2 * MiB));
  EXPECT_FALSE(pool.deallocate(chunk, 2 * MiB)) << "released twice";
  auto stats = pool.stats();
  EXPECT_EQ(stats.invalidReleases, 5U);
  EXPECT_EQ(stats.releases, 1U);
  EXPECT_EQ(pool.allocate(2 * MiB), chunk) << "the pool is still sound";
}

TEST_F(Pool, FreeBlocksOfOneClassServeAnotherWhenThePoolIsFull) {
  install();
  MemoryPool pool(options(8 * MiB));  // four blocks, no growth
  std::vector<std::uint8_t*> small;
  for (int i = 0; i < 8; ++i) small.push_back(pool.allocate(256 * KiB));  // block 0
  auto* big = pool.allocate(4 * MiB);                                        // blocks 1-2
  auto* last = pool.allocate(2 * MiB);                                       // block 3
  ASSERT_FALSE(pool.tryAllocate(2 * MiB).ok()) << "full";
  for (auto* chunk : small) pool.deallocate(chunk, 256 * KiB);
  // Block 0 is free but listed for 256 KiB chunks; the 4 MiB chunk's second block is not free.
  auto reused = pool.tryAllocate(2 * MiB);
  ASSERT_TRUE(reused.ok()) << reused.error().what();
  EXPECT_EQ(reused.value(), *std::min_element(small.begin(), small.end()));
  EXPECT_EQ(pool.stats().reclaims, 1U);
  EXPECT_EQ(pool.stats().freeListed, 0U);
  EXPECT_FALSE(pool.tryAllocate(2 * MiB).ok()) << "the live 4 MiB chunk keeps both its blocks";

  pool.deallocate(big, 4 * MiB);
  auto run = pool.tryAllocate(4 * MiB);  // needs two adjacent free blocks
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run.value(), big);
  pool.deallocate(last, 2 * MiB);
}

TEST_F(Pool, APoolWhoseChunksAllCameBackIsOnePieceAgain) {
  install();
  MemoryPool pool(options(16 * MiB));
  auto* first = pool.allocate(2 * MiB);
  auto* small = pool.allocate(256 * KiB);
  auto* big = pool.allocate(4 * MiB);
  pool.deallocate(small, 256 * KiB);
  pool.deallocate(first, 2 * MiB);
  pool.deallocate(big, 4 * MiB);
  EXPECT_EQ(pool.stats().resets, 0U) << "no eager reset: the free lists keep serving";
  EXPECT_EQ(pool.allocate(2 * MiB), first) << "a released chunk is reused first";
  pool.deallocate(first, 2 * MiB);
  auto whole = pool.tryAllocate(16 * MiB);
  ASSERT_TRUE(whole.ok()) << whole.error().what();
  EXPECT_EQ(whole.value(), first) << "the whole pool in one piece, from its base";
  auto stats = pool.stats();
  EXPECT_EQ(stats.reclaims, 1U);
  EXPECT_EQ(stats.freeListed, 0U);
}

TEST_F(Pool, SpecReferenceCountedRelease) {
  install();
  MemoryPool pool(8 * MiB, /*hugePages=*/true, 0);
  IMemoryPool& spec = pool;
  auto* first = spec.get(2 * MiB, 0);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(spec.get(2 * MiB, 0), nullptr);
  spec.release(0);
  EXPECT_EQ(pool.stats().liveChunks, 1U);
  spec.release(0);
  auto stats = pool.stats();
  EXPECT_EQ(stats.resets, 1U);
  EXPECT_EQ(stats.inUse, 0U) << "chunks given up by reference are reclaimed at the reset";
  EXPECT_EQ(stats.requested, 0U);
  EXPECT_EQ(spec.get(2 * MiB, 0), first);
  spec.release(0);
  spec.release(0);
  EXPECT_EQ(pool.stats().invalidReleases, 1U) << "a release with nothing live is refused";
}

TEST_F(Pool, GrowsWithTheSamePageKind) {
  fake.setHugePages(kHugePageSize, 0, 100);
  install();
  MemoryPool pool(options(4 * MiB, /*grow=*/true));
  EXPECT_TRUE(pool.isHugePages(0));
  std::vector<std::uint8_t*> chunks;
  for (int i = 0; i < 5; ++i) chunks.push_back(pool.allocate(2 * MiB));
  auto stats = pool.stats();
  EXPECT_EQ(stats.growths, 2U);
  EXPECT_EQ(stats.arenas, 3U);
  EXPECT_EQ(stats.capacity, 12 * MiB);
  EXPECT_EQ(stats.hugeBytes, 12 * MiB);
  for (auto* chunk : chunks) EXPECT_TRUE(pool.owns(chunk));
}

TEST_F(Pool, GrowthOnSmallerPagesIsRefusedUnlessAllowed) {
  fake.setHugePages(kHugePageSize, 0, 2);
  install();
  MemoryPool strict(options(4 * MiB, true));
  strict.allocate(4 * MiB);
  auto refused = strict.tryAllocate(2 * MiB);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().what(), HasSubstr("smaller pages than its first mapping"));

  auto o = options(4 * MiB, true);
  o.growthMayDegrade = true;
  o.hugePages = false;  // the fake has no 2 MiB pages left; this pool starts on THP
  MemoryPool lenient(o);
  lenient.allocate(4 * MiB);
  EXPECT_TRUE(lenient.tryAllocate(2 * MiB).ok());
}

TEST_F(Pool, MaxCapacityCapsGrowth) {
  install();
  auto o = options(4 * MiB, true);
  o.maxCapacity = 8 * MiB;
  MemoryPool pool(o);
  pool.allocate(4 * MiB);
  pool.allocate(4 * MiB);
  auto capped = pool.tryAllocate(2 * MiB);
  ASSERT_FALSE(capped.ok());
  EXPECT_THAT(capped.error().what(), HasSubstr("would pass its maximum of 8 MiB"));
}

TEST_F(Pool, TrimGivesIdleMappingsBack) {
  install();
  MemoryPool pool(options(4 * MiB, true));
  auto* keep = pool.allocate(4 * MiB);
  auto* grown = pool.allocate(4 * MiB);
  auto* grown2 = pool.allocate(2 * MiB);
  const auto regions = fake.liveRegions();
  EXPECT_EQ(pool.trim(), 0U) << "nothing is idle yet";
  pool.deallocate(grown, 4 * MiB);
  pool.deallocate(grown2, 2 * MiB);
  EXPECT_EQ(pool.trim(), 8 * MiB) << "both added mappings are idle";
  EXPECT_EQ(fake.liveRegions(), regions - 2);
  auto stats = pool.stats();
  EXPECT_EQ(stats.arenas, 1U);
  EXPECT_EQ(stats.freeListed, 0U) << "free chunks of the unmapped mapping are forgotten";
  EXPECT_EQ(stats.trims, 1U);
  EXPECT_NE(pool.allocate(2 * MiB), nullptr) << "it grows again when needed";
  pool.deallocate(keep, 4 * MiB);
}

TEST_F(Pool, TrimOfAnIdlePoolGivesTheFirstMappingsPagesBack) {
  install();
  MemoryPool pool(options(8 * MiB));
  auto* chunk = pool.allocate(2 * MiB);
  EXPECT_EQ(pool.trim(), 0U) << "a live chunk keeps the pages";
  pool.deallocate(chunk, 2 * MiB);
  EXPECT_EQ(pool.trim(), 8 * MiB) << "transparent pages go back (MADV_DONTNEED)";
}

TEST_F(Pool, HugeTlbPagesAreNotDiscarded) {
  fake.setHugePages(kHugePageSize, 0, 4);
  install();
  MemoryPool pool(options(8 * MiB));
  EXPECT_EQ(pool.trim(), 0U);
}

TEST_F(Pool, TrimsByItselfAfterAQuietPeriod) {
  install();
  auto o = options(4 * MiB, true);
  o.trimAfterQuiet = std::chrono::milliseconds(20);
  MemoryPool pool(o);
  auto* keep = pool.allocate(4 * MiB);
  auto* grown = pool.allocate(4 * MiB);
  pool.deallocate(grown, 4 * MiB);
  for (int i = 0; i < 200 && pool.stats().arenas > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pool.stats().arenas, 1U);
  EXPECT_GE(pool.stats().trims, 1U);
  pool.deallocate(keep, 4 * MiB);
}

TEST_F(Pool, StatisticsFollowUse) {
  install();
  MemoryPool pool(options(16 * MiB));
  std::vector<std::uint8_t*> small;
  for (int i = 0; i < 8; ++i) small.push_back(pool.allocate(256 * KiB));
  auto* big = pool.allocate(4 * MiB);
  for (auto* chunk : small) pool.deallocate(chunk, 256 * KiB);
  auto stats = pool.stats();
  EXPECT_EQ(stats.capacity, 16 * MiB);
  EXPECT_EQ(stats.inUse, 4 * MiB);
  EXPECT_EQ(stats.highWater, 6 * MiB);
  EXPECT_EQ(stats.carved, 6 * MiB);
  EXPECT_EQ(stats.freeListed, 2 * MiB);
  EXPECT_DOUBLE_EQ(stats.fragmentation(), 2.0 / 12.0) << "2 MiB of the 12 MiB free only serve 256 KiB requests";
  EXPECT_FALSE(stats.huge);
  EXPECT_EQ(stats.pageSize, kHugePageSize) << "THP-eligible";
  pool.deallocate(big, 4 * MiB);
}

TEST_F(Pool, StandardContainersLiveInThePool) {
  install();
  auto pool = std::make_shared<MemoryPool>(options(32 * MiB));
  PoolMemoryResource resource(pool);
  {
    std::pmr::vector<std::uint64_t> numbers(&resource);
    numbers.resize(100000);
    EXPECT_TRUE(pool->owns(numbers.data()));
    std::pmr::unsynchronized_pool_resource small(&resource);
    std::pmr::vector<int> tiny(&small);
    tiny.push_back(1);
    EXPECT_TRUE(pool->owns(tiny.data())) << "small objects through a pool_resource upstream";
  }
  EXPECT_EQ(pool->stats().liveChunks, 0U) << "everything was given back";
  EXPECT_THROW((void)resource.allocate(65 * MiB), std::bad_alloc);
  EXPECT_THROW((void)resource.allocate(64 * KiB, 4 * MiB), std::bad_alloc) << "alignment beyond the chunk's";
  PoolMemoryResource same(pool);
  EXPECT_TRUE(resource.is_equal(same));
}

TEST_F(Pool, GlobalPoolCanBeReplacedWhileChunksAreOut) {
  install();
  VirtualMemory::init(16 * MiB, kHugePageSize);
  ASSERT_NE(dynamic_cast<MemoryPool*>(globalPool().get()), nullptr) << "one node: a plain MemoryPool";
  VirtualMemoryOptions o;
  o.size = 2 * MiB;
  o.usePool = true;
  auto chunk = std::make_optional<VirtualMemory>(o);
  EXPECT_TRUE(chunk->isExternal());
  EXPECT_EQ(chunk->mappedSize(), 2 * MiB);

  VirtualMemory::init(16 * MiB, kHugePageSize);  // again: replaces the first pool
  VirtualMemory::destroy();
  EXPECT_FALSE(globalPool());
  std::fill_n(chunk->data(), chunk->size(), std::uint8_t{7});  // its pool is still alive
  chunk.reset();
  EXPECT_EQ(fake.liveRegions(), 0U) << "both pools are gone once their chunks are back";

  VirtualMemory::init(16 * MiB, 0);
  EXPECT_FALSE(globalPool()->isHugePages(0));
  VirtualMemory::destroy();
  EXPECT_EQ(fake.liveRegions(), 0U);
}

}  // namespace
}  // namespace xmem
