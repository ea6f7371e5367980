// where() and promote() on memory xmem did not allocate: what asking the page tables, and turning a
// 4 KiB-faulted range into huge pages in place, cost per MiB.
//
//   xmem_bench_placement [google benchmark flags]
#include <xmem/placement.h>
#include <xmem/types.h>

#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstring>
#include <optional>

namespace {

/// A 2 MiB-aligned anonymous range of `mib` MiB, faulted on 4 KiB pages.
struct Range {
  explicit Range(std::size_t mib) : length(mib * xmem::MiB) {
    raw = ::mmap(nullptr, length + 2 * xmem::MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data = reinterpret_cast<std::uint8_t*>(xmem::alignUp(reinterpret_cast<std::uintptr_t>(raw), 2 * xmem::MiB));
    ::madvise(data, length, MADV_NOHUGEPAGE);
    std::memset(data, 1, length);
  }
  ~Range() { ::munmap(raw, length + 2 * xmem::MiB); }
  Range(const Range&) = delete;
  Range& operator=(const Range&) = delete;
  std::size_t length;
  void* raw;
  std::uint8_t* data;
};

void whereOf(benchmark::State& state) {
  Range range(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(xmem::where(range.data, range.length).parts.size());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(range.length));
}
BENCHMARK(whereOf)->Arg(64)->Arg(2080)->Unit(benchmark::kMillisecond);

void promoteOf(benchmark::State& state) {
  std::size_t huge = 0;
  std::optional<Range> range;
  for (auto _ : state) {
    state.PauseTiming();  // making a fresh 4 KiB range (and unmapping the last) is not promote()'s cost
    range.reset();
    range.emplace(static_cast<std::size_t>(state.range(0)));
    state.ResumeTiming();
    huge = xmem::promote(range->data, range->length).hugeAfter;
  }
  state.counters["huge_fraction"] = static_cast<double>(huge) / (static_cast<double>(state.range(0)) * static_cast<double>(xmem::MiB));
  state.SetBytesProcessed(state.iterations() * state.range(0) * static_cast<std::int64_t>(xmem::MiB));
}
BENCHMARK(promoteOf)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
