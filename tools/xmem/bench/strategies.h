// The synthetic part of `xmem bench`: one dataset-sized buffer per page strategy on every node,
// the strategies interleaved within each round, so a shared machine's drift reaches them alike.
#pragma once

#include "free_pages.h"
#include "progress.h"

#include <xmem/huge_pages.h>
#include <xmem/virtual_memory.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace xmem::bench {

struct Strategy {
  std::string name;
  std::function<void(VirtualMemoryOptions&)> shape;
  PageNeeds needs;                                     ///< free pages it needs set up
  std::function<bool(const AllocationReport&)> gotIt;  ///< did the allocation get what the strategy means
  std::string notHere;                                 ///< why it cannot mean anything for this buffer
};

/// Strategies for a buffer of `size`, with `threads` scratchpads beside it.
std::vector<Strategy> strategies(std::size_t size, unsigned threads);

struct Figures {
  double touchGBs = 0;          ///< allocation + first touch, one thread
  double prefaultTouchGBs = 0;  ///< allocation with pre-fault on every core, then the touch
  double retouchGBs = 0;        ///< the same touch over faulted memory (what first touch aims for)
  double prefaultGBs = 0;       ///< allocation with pre-fault on every core, nothing else
  double memsetGBs = 0;         ///< memset over the faulted buffer (the bar for pre-faulting)
  double latencyNs = 0;
  double readsM = 0;            ///< independent reads, millions per second
  double rxKit = 0;             ///< RandomX-shaped loop, thousand iterations per second
  double rxPrefetchKit = 0;
  std::string got;              ///< the allocation's summary
};

struct StrategyResult {
  std::string name;
  std::uint32_t node = 0;
  std::string skipped;          ///< why it did not run
  std::vector<Figures> rounds;
  Figures median() const;
  /// One figure per round.
  std::vector<double> series(double Figures::*field) const;
};

/// How much traffic each measurement makes.
struct Work {
  std::size_t reads;
  std::size_t readsPerThread;
  std::size_t iterationsPerThread;
};

struct SyntheticRun {
  std::size_t size = 0;
  std::vector<std::uint32_t> nodes;
  unsigned threads = 1;
  unsigned rounds = 1;
  Work work{};
};

/// Every strategy on every node, `run.rounds` times, each with the pages it needs free in `counts`.
std::vector<StrategyResult> runStrategies(const SyntheticRun& run, ScopedFreeHugePages& counts, const Say& say);

/// Each node's 4 KiB medians: what the tables and the plot give ratios to.
std::map<std::uint32_t, Figures> baselines(const std::vector<StrategyResult>& results);

/// The measured result of `name` on `node`, or nullptr.
const StrategyResult* findStrategy(const std::vector<StrategyResult>& results, const std::string& name,
                                   std::uint32_t node);

}  // namespace xmem::bench
