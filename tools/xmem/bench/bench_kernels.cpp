#include "bench_kernels.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace xmem::bench {
namespace {

constexpr std::size_t kLine = 64;

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// xorshift64*: cheap, and good enough to make addresses unpredictable to the prefetchers.
struct Random {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
};

std::uint64_t load64(const std::uint8_t* address) noexcept {
  std::uint64_t value;
  std::memcpy(&value, address, sizeof value);
  return value;
}

template <class Work>
double runThreads(unsigned threads, Work work) {
  std::vector<std::thread> workers;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ++ready;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      work(t);
    });
  }
  while (ready.load() != threads) std::this_thread::yield();
  start = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& worker : workers) worker.join();
  return secondsSince(start);
}

volatile std::uint64_t sink;  // keeps the compiler from dropping the loads

}  // namespace

double touch(std::uint8_t* buffer, std::size_t size) {
  const auto start = Clock::now();
  Random random{0x9E3779B97F4A7C15ULL};
  std::size_t offset = 0;
  for (; offset + sizeof(std::uint64_t) <= size; offset += sizeof(std::uint64_t)) {
    const std::uint64_t value = random.next() | 1;
    std::memcpy(buffer + offset, &value, sizeof value);
  }
  for (; offset < size; ++offset) buffer[offset] = 1;
  return secondsSince(start);
}

double fill(std::uint8_t* buffer, std::size_t size) {
  const auto start = Clock::now();
  std::memset(buffer, 0x5A, size);
  sink = buffer[size / 2];
  return secondsSince(start);
}

double dependentReadNs(const std::uint8_t* buffer, std::size_t size, std::size_t reads) {
  const std::size_t lines = size / kLine;
  std::uint64_t line = 0;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < reads; ++i) {
    const std::uint64_t value = load64(buffer + line * kLine);
    // The next address needs this load; mixing in the step keeps the walk from closing into a
    // short cycle that would fit in the caches.
    line = ((value + i) * 0x9E3779B97F4A7C15ULL >> 17) % lines;
  }
  const double seconds = secondsSince(start);
  sink = line;
  return seconds * 1e9 / static_cast<double>(reads);
}

double independentReadsPerSecond(const std::uint8_t* buffer, std::size_t size, std::size_t readsPerThread,
                                 unsigned threads) {
  const std::size_t lines = size / kLine;
  const double seconds = runThreads(threads, [&](unsigned t) {
    Random random{0x1234567ULL + t};
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < readsPerThread; ++i) sum += load64(buffer + (random.next() % lines) * kLine);
    sink = sum;
  });
  return static_cast<double>(readsPerThread) * threads / seconds / 1e6;
}

double randomxShapedIterationsPerSecond(const std::uint8_t* dataset, std::size_t datasetSize,
                                        std::uint8_t* const* scratchpads, std::size_t iterationsPerThread,
                                        unsigned threads, bool prefetch) {
  constexpr std::size_t kLevels[] = {16 * 1024, 256 * 1024, kScratchpadSize};
  const std::size_t lines = datasetSize / kLine;
  const double seconds = runThreads(threads, [&](unsigned t) {
    auto* pad = reinterpret_cast<std::uint64_t*>(scratchpads[t]);
    Random random{0xABCDEFULL + t};
    std::uint64_t registers[8] = {};
    std::uint64_t next = random.next() % lines;
    for (std::size_t i = 0; i < iterationsPerThread; ++i) {
      for (int op = 0; op < 8; ++op) {
        const std::size_t level = kLevels[op < 5 ? 0 : op < 7 ? 1 : 2];  // mostly L1, some L2, one L3
        const std::size_t word = (registers[op] ^ random.next()) % (level / 8);
        registers[op] = registers[op] * 0x5851F42D4C957F2DULL + pad[word];
      }
      pad[registers[0] % (kLevels[0] / 8)] = registers[1];
      pad[registers[2] % (kLevels[2] / 8)] = registers[3];
      const std::size_t line = next;
      next = (registers[4] ^ registers[5]) % lines;  // known one iteration ahead, as in RandomX
      if (prefetch) __builtin_prefetch(dataset + next * kLine);
      for (int r = 0; r < 8; ++r) registers[r] ^= load64(dataset + line * kLine + static_cast<std::size_t>(r) * 8);
    }
    sink = registers[0];
  });
  return static_cast<double>(iterationsPerThread) * threads / seconds / 1e3;
}

}  // namespace xmem::bench
