// Pool get+release pairs, one thread and all threads, side by side with mmap/munmap of the same
// size and with a mutex-guarded bump pool like XMRig's (one lock, reference count, no single
// frees). Ratios from the same run are printed at the end.
#include "bench_report.h"

#include <xmem/memory_pool.h>

#include <sys/mman.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace {

constexpr std::size_t kCapacity = 256 * xmem::MiB;

xmem::MemoryPool& sharedPool() {
  static xmem::MemoryPool pool([] {
    xmem::MemoryPoolOptions options;
    options.capacity = kCapacity;
    return options;
  }());
  return pool;
}

// XMRig's scheme: one mutex, a bump offset, a reference count; memory comes back only when every
// reference is gone.
class MutexBumpPool {
 public:
  explicit MutexBumpPool(std::size_t capacity) : memory_([&] {
    xmem::VirtualMemoryOptions options;
    options.size = capacity;
    return options;
  }()) {}

  std::uint8_t* get(std::size_t size) {
    std::lock_guard lock(mutex_);
    if (memory_.size() - offset_ < size) return nullptr;
    std::uint8_t* chunk = memory_.data() + offset_;
    offset_ += size;
    ++references_;
    return chunk;
  }
  void release() {
    std::lock_guard lock(mutex_);
    if (references_ > 0 && --references_ == 0) offset_ = 0;
  }

 private:
  xmem::VirtualMemory memory_;
  std::mutex mutex_;
  std::size_t offset_ = 0;
  std::size_t references_ = 0;
};

MutexBumpPool& sharedBumpPool() {
  static MutexBumpPool pool(kCapacity);
  return pool;
}

void xmemPool(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto& pool = sharedPool();
  for (auto _ : state) {
    std::uint8_t* chunk = pool.get(size, 0);
    benchmark::DoNotOptimize(chunk);
    if (chunk == nullptr || !pool.release(chunk, size, 0)) state.SkipWithError("the pool failed");
  }
}

void mutexBumpPool(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto& pool = sharedBumpPool();
  for (auto _ : state) {
    std::uint8_t* chunk = pool.get(size);
    benchmark::DoNotOptimize(chunk);
    pool.release();
  }
}

void mmapMunmap(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* chunk = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    benchmark::DoNotOptimize(chunk);
    ::munmap(chunk, size);
  }
}

void registerAll() {
  const int threads = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  for (auto [name, function] : {std::pair{"xmem_pool", &xmemPool}, std::pair{"mutex_bump_pool", &mutexBumpPool},
                                std::pair{"mmap_munmap", &mmapMunmap}}) {
    auto* benchmark = benchmark::RegisterBenchmark(name, function);
    benchmark->Arg(256 * 1024)->Arg(2 * 1024 * 1024)->Threads(1)->Threads(threads)->UseRealTime();
  }
}

void printRatios(const xmem::bench::CollectingReporter& reporter) {
  const int threads = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  std::printf("\nget+release pairs: nanoseconds per pair per thread, and ratios (lower is better)\n");
  for (const char* size : {"262144", "2097152"}) {
    for (int count : {1, threads}) {
      auto name = [&](const char* what) { return std::string(what) + "/" + size + "/threads:" + std::to_string(count); };
      const auto* pool = reporter.find(name("xmem_pool"));
      const auto* bump = reporter.find(name("mutex_bump_pool"));
      const auto* mapping = reporter.find(name("mmap_munmap"));
      if (pool == nullptr || bump == nullptr || mapping == nullptr) continue;
      // With N threads, real time per iteration is wall time per N pairs done in parallel: per
      // thread, one pair costs N times that.
      const double scale = count;
      std::printf("  %8s bytes, %d thread(s): xmem %7.1f ns  bump+mutex %7.1f ns (%.2fx)  mmap+munmap %8.1f ns (%.2fx)\n",
                  size, count, pool->nanosecondsPerIteration * scale, bump->nanosecondsPerIteration * scale,
                  bump->nanosecondsPerIteration / pool->nanosecondsPerIteration, mapping->nanosecondsPerIteration * scale,
                  mapping->nanosecondsPerIteration / pool->nanosecondsPerIteration);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  registerAll();
  xmem::bench::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  printRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
