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
