// Both cores hammering one pool: a million get/release operations in all. Every chunk carries
// its owner's mark while held, so a chunk handed to two threads at once is caught. Run under
// ThreadSanitizer in CI as well.
#include <xmem/memory_pool.h>
#include <xmem/numa_memory_pool.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace xmem {
namespace {

constexpr std::size_t kOperations = 1'000'000;
constexpr std::size_t kHeldPerThread = 8;
constexpr std::size_t kSizes[] = {64 * KiB, 256 * KiB, 1 * MiB, 2 * MiB, 4 * MiB};

struct Held {
  std::uint8_t* chunk;
  std::size_t size;
  std::uint64_t mark;
};

template <typename Allocate, typename Release>
void hammer(Allocate allocate, Release release, std::atomic<std::size_t>& errors) {
  const unsigned threads = std::max(2U, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 random(t + 1);
      std::vector<Held> held;
      for (std::size_t i = 0; i < kOperations / threads; ++i) {
        if (held.size() < kHeldPerThread && (held.empty() || random() % 2 == 0)) {
          const std::size_t size = kSizes[random() % std::size(kSizes)];
          std::uint8_t* chunk = allocate(size);
          if (chunk == nullptr) {
            ++errors;
            continue;
          }
          const std::uint64_t mark = (std::uint64_t{t} << 48) | i;
          std::memcpy(chunk, &mark, sizeof mark);
          std::memcpy(chunk + size - sizeof mark, &mark, sizeof mark);
          held.push_back({chunk, size, mark});
        } else {
          auto index = random() % held.size();
          Held chunk = held[index];
          held[index] = held.back();
          held.pop_back();
          std::uint64_t first = 0;
          std::uint64_t last = 0;
          std::memcpy(&first, chunk.chunk, sizeof first);
          std::memcpy(&last, chunk.chunk + chunk.size - sizeof last, sizeof last);
          if (first != chunk.mark || last != chunk.mark) ++errors;  // someone else wrote into our chunk
          if (!release(chunk.chunk, chunk.size)) ++errors;
        }
      }
      for (const auto& chunk : held)
        if (!release(chunk.chunk, chunk.size)) ++errors;
    });
  }
  for (auto& worker : workers) worker.join();
}

TEST(PoolConcurrency, AMillionOperationsOnBothCores) {
  MemoryPoolOptions options;
  options.capacity = 64 * MiB;
  options.hugePages = false;  // the real platform, on whatever pages need no reservation
  MemoryPool pool(options);
  std::atomic<std::size_t> errors{0};
  hammer([&](std::size_t size) { return pool.get(size, 0); },
         [&](std::uint8_t* chunk, std::size_t size) { return pool.release(chunk, size, 0); }, errors);
  EXPECT_EQ(errors.load(), 0U);
  auto stats = pool.stats();
  EXPECT_EQ(stats.allocations, stats.releases);
  EXPECT_GE(stats.allocations, kOperations / 2 - 64);
  EXPECT_EQ(stats.liveChunks, 0U);
  EXPECT_EQ(stats.inUse, 0U);
  EXPECT_EQ(stats.invalidReleases, 0U);
  EXPECT_LE(stats.highWater, 2 * kHeldPerThread * 4 * MiB * std::max(2U, std::thread::hardware_concurrency()));
}

// One thread grows the pool and trims the growth away again, over and over; one gets chunks and
// gives them up with the spec's release(node), which resets the pool whenever nothing else is
// live; the others free pointers into the mappings that come and go. Those frees name no chunk
// (64 KiB into a 4 MiB chunk), so each must be refused, whether its mapping is there, half gone
// or mapped again: never an index computed from a mapping that trim took away meanwhile.
TEST(PoolConcurrency, TrimAndReleaseByNodeRacingFrees) {
  MemoryPoolOptions options;
  options.capacity = 4 * MiB;
  options.hugePages = false;
  options.transparentHugePages = false;
  MemoryPool pool(options);
  constexpr int kCycles = 400;
  constexpr std::size_t kChunk = 4 * MiB;
  std::atomic<std::uint8_t*> published[2] = {nullptr, nullptr};
  std::atomic<bool> done{false};
  std::atomic<std::size_t> errors{0};
  std::atomic<std::uint64_t> strayFrees{0};
  std::atomic<std::uint64_t> strayAccepted{0};
  std::atomic<std::uint64_t> trimmed{0};

  std::thread grower([&] {
    for (int cycle = 0; cycle < kCycles; ++cycle) {
      std::uint8_t* first = pool.get(kChunk, 0);
      std::uint8_t* second = pool.get(kChunk, 0);  // past the first mapping: the pool grows
      if (first == nullptr || second == nullptr) ADD_FAILURE() << "no room: " << pool.stats().arenas << " mappings";
      published[0].store(first);
      published[1].store(second);
      std::this_thread::yield();
      if (first != nullptr && !pool.release(first, kChunk, 0)) ++errors;
      if (second != nullptr && !pool.release(second, kChunk, 0)) ++errors;
      trimmed += pool.trim();
    }
    done = true;
  });
  std::thread forgetter([&] {
    while (!done) {
      // One chunk given up at a time: it stays taken until the pool resets (nothing live).
      const auto resets = pool.stats().resets;
      if (pool.get(2 * MiB, 0) == nullptr) continue;
      pool.release(0);
      while (!done && pool.stats().resets == resets) std::this_thread::yield();
    }
  });
  std::vector<std::thread> freers;
  for (int t = 0; t < 2; ++t) {
    freers.emplace_back([&, t] {
      while (!done) {
        std::uint8_t* chunk = published[t].load();
        if (chunk == nullptr) continue;
        if (pool.release(chunk + 64 * KiB, 64 * KiB, 0)) ++strayAccepted;  // no chunk starts there
        ++strayFrees;
      }
    });
  }
  grower.join();
  forgetter.join();
  for (auto& freer : freers) freer.join();

  EXPECT_EQ(errors.load(), 0U) << "releases of the grower's own chunks refused";
  EXPECT_EQ(strayAccepted.load(), 0U) << "a free that names no chunk was taken";
  EXPECT_GT(trimmed.load(), 0U) << "the grown mappings were given back";
  auto stats = pool.stats();
  EXPECT_EQ(stats.liveChunks, 0U);
  EXPECT_EQ(stats.allocations, stats.releases);
  EXPECT_EQ(stats.invalidReleases, strayFrees.load());
  EXPECT_NE(pool.get(kChunk, 0), nullptr) << "still usable";
}

TEST(PoolConcurrency, NumaPoolWithFallbackUnderLoad) {
  MemoryPoolOptions options;
  // Room for the worst case without growth: 2 threads x 8 chunks x 4 MiB, even with every held
  // chunk pinning blocks apart.
  options.capacity = 256 * MiB;
  options.hugePages = false;
  options.grow = false;
  NumaMemoryPool pool(options, Topology::fromSystem());
  std::atomic<std::size_t> errors{0};
  hammer([&](std::size_t size) { return pool.get(size, 0); },
         [&](std::uint8_t* chunk, std::size_t size) { return pool.release(chunk, size, 0); }, errors);
  EXPECT_EQ(errors.load(), 0U);
  auto stats = pool.stats();
  EXPECT_EQ(stats[0].pool.liveChunks, 0U);
  EXPECT_EQ(stats[0].pool.invalidReleases, 0U);
}

}  // namespace
}  // namespace xmem
