#include "strategies.h"

#include "bench_kernels.h"
#include "interrupt.h"
#include "paired_statistics.h"

#include <xmem/error.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>

namespace xmem::bench {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// Each thread's scratchpad on the strategy's pages too, then the RandomX-shaped loop over `memory`.
void measureRandomxShaped(const VirtualMemory& memory, const VirtualMemoryOptions& base, unsigned threads,
                          const Work& work, Figures& figures) {
  const std::size_t size = base.size;
  VirtualMemoryOptions padOptions = base;
  padOptions.size = kScratchpadSize * threads;
  padOptions.oneGbPages = false;
  VirtualMemory pads(padOptions);
  std::vector<std::uint8_t*> scratchpads;
  for (unsigned t = 0; t < threads; ++t) scratchpads.push_back(pads.data() + t * kScratchpadSize);
  std::memset(pads.data(), 0, pads.size());
  for (bool prefetch : {false, true})
    (prefetch ? figures.rxPrefetchKit : figures.rxKit) = randomxShapedIterationsPerSecond(
        memory.data(), size, scratchpads.data(), work.iterationsPerThread, threads, prefetch);
}

Figures measure(const Strategy& strategy, std::size_t size, std::uint32_t node, unsigned threads, const Work& work) {
  VirtualMemoryOptions base;
  base.size = size;
  base.node = node;
  base.numaPolicy = NumaPolicy::Bind;
  base.alignment = kHugePageSize;
  strategy.shape(base);
  Figures figures;
  const double gigabytes = static_cast<double>(size) / 1e9;
  {
    const auto start = Clock::now();
    VirtualMemory memory(base);
    touch(memory.data(), size);
    figures.touchGBs = gigabytes / secondsSince(start);
  }
  auto prefaulted = base;
  prefaulted.prefaultThreads = threads;
  const auto start = Clock::now();
  VirtualMemory memory(prefaulted);
  const double allocationSeconds = secondsSince(start);
  touch(memory.data(), size);
  figures.prefaultTouchGBs = gigabytes / secondsSince(start);
  figures.prefaultGBs = gigabytes / allocationSeconds;
  figures.retouchGBs = gigabytes / touch(memory.data(), size);
  figures.memsetGBs = gigabytes / fill(memory.data(), size);
  if (!strategy.gotIt(memory.report())) throw Error(ErrorCode::Unsupported, "got " + memory.report().summary());
  figures.got = memory.report().summary();
  figures.latencyNs = dependentReadNs(memory.data(), size, work.reads);
  figures.readsM = independentReadsPerSecond(memory.data(), size, work.readsPerThread, threads);
  measureRandomxShaped(memory, base, threads, work, figures);
  return figures;
}

}  // namespace

std::vector<Strategy> strategies(std::size_t size, unsigned threads) {
  const std::uint64_t pads = threads * ((kScratchpadSize + kHugePageSize - 1) / kHugePageSize);
  const std::uint64_t twoMb = (size + kHugePageSize - 1) / kHugePageSize + pads;
  const std::uint64_t gigabytes = size / kOneGbPageSize;
  const std::uint64_t tail = (size - gigabytes * kOneGbPageSize + kHugePageSize - 1) / kHugePageSize + pads;
  auto none = [](VirtualMemoryOptions& o) {
    o.hugePages = false;
    o.transparentHugePages = false;
  };
  std::vector<Strategy> list = {
      {"4 KiB", none, {}, [](const AllocationReport& r) { return r.bytesOf(PageKind::Base) == r.mappedSize; }, {}},
      {"THP", [](VirtualMemoryOptions& o) { o.hugePages = false; }, {},
       [](const AllocationReport& r) { return r.thpEligibleBytes() == r.mappedSize; }, {}},
      {"2 MiB", [](VirtualMemoryOptions& o) { o.transparentHugePages = false; o.partialHugePages = false; }, {twoMb, 0},
       [](const AllocationReport& r) { return r.bytesOf(PageKind::HugeTlb, kHugePageSize) == r.mappedSize; }, {}},
      {"1 GiB", [](VirtualMemoryOptions& o) { o.oneGbPages = true; o.transparentHugePages = false; }, {tail, gigabytes},
       [](const AllocationReport& r) { return r.bytesOf(PageKind::HugeTlb, kOneGbPageSize) != 0; }, {}},
      {"partial", [](VirtualMemoryOptions& o) { o.oneGbPages = false; }, {twoMb / 2, 0},
       [](const AllocationReport& r) { return r.hugeTlbBytes() != 0 && r.thpEligibleBytes() != 0; }, {}},
      // xmem's own choice on the machine as it is: nothing reserved for it.
      {"xmem auto", [](VirtualMemoryOptions& o) { o.oneGbPages = true; }, {},
       [](const AllocationReport&) { return true; }, {}},
  };
  if (gigabytes == 0) list[3].notHere = "the buffer is smaller than one 1 GiB page";
  return list;
}

std::vector<double> StrategyResult::series(double Figures::*field) const {
  std::vector<double> values;
  for (const auto& round : rounds) values.push_back(round.*field);
  return values;
}

Figures StrategyResult::median() const {
  Figures m;
  for (auto field : {&Figures::touchGBs, &Figures::prefaultTouchGBs, &Figures::retouchGBs, &Figures::prefaultGBs,
                     &Figures::memsetGBs, &Figures::latencyNs, &Figures::readsM, &Figures::rxKit, &Figures::rxPrefetchKit})
    m.*field = medianWithInterval(series(field)).median;
  if (!rounds.empty()) m.got = rounds.back().got;
  return m;
}

std::vector<StrategyResult> runStrategies(const SyntheticRun& run, ScopedFreeHugePages& counts, const Say& say) {
  const auto list = strategies(run.size, run.threads);
  std::vector<StrategyResult> results;
  for (const auto node : run.nodes)
    for (const auto& strategy : list) results.push_back({strategy.name, node, strategy.notHere, {}});
  for (unsigned round = 0; round < run.rounds; ++round) {
    for (std::size_t index = 0; index < results.size(); ++index) {
      auto& result = results[index];
      const auto& strategy = list[index % list.size()];
      if (!result.skipped.empty() || interrupted()) continue;
      say(fmt::format("round {}/{}, node {}: {} ({})", round + 1, run.rounds, result.node, strategy.name,
                      formatBytes(run.size)));
      if (auto why = makeFree(counts, strategy.needs); !why.empty()) {
        result.skipped = why;
        continue;
      }
      try {
        result.rounds.push_back(measure(strategy, run.size, result.node, run.threads, run.work));
      } catch (const Error& error) {
        result.skipped = error.what();
      }
    }
  }
  counts.restore();
  return results;
}

std::map<std::uint32_t, Figures> baselines(const std::vector<StrategyResult>& results) {
  std::map<std::uint32_t, Figures> baseline;
  for (const auto& result : results)
    if (result.name == "4 KiB" && result.skipped.empty()) baseline[result.node] = result.median();
  return baseline;
}

const StrategyResult* findStrategy(const std::vector<StrategyResult>& results, const std::string& name,
                                   std::uint32_t node) {
  for (const auto& result : results)
    if (result.name == name && result.node == node && result.skipped.empty() && !result.rounds.empty()) return &result;
  return nullptr;
}

}  // namespace xmem::bench
