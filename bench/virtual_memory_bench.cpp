// Allocation plus first touch of a dataset-sized buffer, per strategy, side by side with memset
// over memory that is already faulted in (what touching costs once the kernel's work is done).
// Ratios to that baseline are printed at the end: the machine is shared, so absolute figures
// drift while ratios from one run hold.
//
//   xmem_bench_virtual_memory [--size-mib=N] [google benchmark flags]
#include <xmem/xmem.h>

#include "bench_report.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::size_t gSize = 2080 * xmem::MiB;

struct Strategy {
  const char* name;
  bool hugePages;
  bool oneGbPages;
  bool transparent;
  unsigned prefaultThreads;  // 0: the benchmark touches every page itself, in one thread
};

const Strategy kStrategies[] = {
    {"4k_pages_touch", false, false, false, 0},
    {"4k_pages_prefault_all", false, false, false, xmem::VirtualMemory::kAllCores},
    {"thp_touch", false, false, true, 0},
    {"thp_prefault_1", false, false, true, 1},
    {"thp_prefault_all", false, false, true, xmem::VirtualMemory::kAllCores},
    {"hugetlb_2m_prefault_all", true, false, false, xmem::VirtualMemory::kAllCores},
    {"hugetlb_1g_prefault_all", false, true, false, xmem::VirtualMemory::kAllCores},
    {"auto_prefault_all", true, true, true, xmem::VirtualMemory::kAllCores},
};

void touchEveryPage(std::uint8_t* data, std::size_t size) {
  for (std::size_t offset = 0; offset < size; offset += 4096) data[offset] = 1;
  benchmark::ClobberMemory();
}

void allocateAndTouch(benchmark::State& state, const Strategy& strategy) {
  xmem::VirtualMemoryOptions options;
  options.size = gSize;
  options.hugePages = strategy.hugePages;
  options.oneGbPages = strategy.oneGbPages;
  options.transparentHugePages = strategy.transparent;
  options.partialHugePages = false;  // measure the strategy itself, not a mix
  options.prefaultThreads = strategy.prefaultThreads;
  double hugeFraction = 0;
  for (auto _ : state) {
    xmem::VirtualMemory memory(options);
    if (strategy.prefaultThreads == 0) touchEveryPage(memory.data(), memory.size());
    hugeFraction = memory.report().hugeFraction();
    if ((strategy.hugePages || strategy.oneGbPages) && memory.report().hugeTlbBytes() == 0 && !strategy.transparent) {
      state.SkipWithError("no explicit huge pages free: reserve some to measure this strategy");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(gSize));
  state.counters["huge_%"] = hugeFraction * 100.0;
}

void memsetFaulted(benchmark::State& state) {
  xmem::VirtualMemoryOptions options;
  options.size = gSize;
  options.prefaultThreads = xmem::VirtualMemory::kAllCores;
  xmem::VirtualMemory memory(options);
  // Non-zero values: this CPU kind stores zeros over zeroed memory about 2.5x faster than any
  // other value, which would flatter the baseline.
  int value = 1;
  for (auto _ : state) {
    std::memset(memory.data(), value++, memory.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(gSize));
}

void printRatios(const xmem::bench::CollectingReporter& reporter) {
  const auto* baseline = reporter.find("memset_over_faulted_memory");
  if (baseline == nullptr || baseline->bytesPerSecond == 0) return;
  std::printf("\nRatio to memset over already-faulted memory (%s, higher is better):\n", xmem::formatBytes(gSize).c_str());
  for (const auto& [name, figures] : reporter.figures())
    std::printf("  %-36s %6.2f x   (%.2f GB/s)\n", name.c_str(), figures.bytesPerSecond / baseline->bytesPerSecond,
                figures.bytesPerSecond / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--size-mib=", 11) == 0)
      gSize = std::stoull(argv[i] + 11) * xmem::MiB;
    else
      args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::RegisterBenchmark("memset_over_faulted_memory", memsetFaulted)->Unit(benchmark::kMillisecond)->Iterations(3);
  for (const auto& strategy : kStrategies)
    benchmark::RegisterBenchmark(strategy.name, allocateAndTouch, strategy)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3)
        ->UseRealTime();
  xmem::bench::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  printRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
