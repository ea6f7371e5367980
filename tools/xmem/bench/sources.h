// The real workload of `xmem bench`: librandomx (xmem-randomx) with its memory from each source
// (the system allocator, its own large pages, xmem, glibc's tunables, peer allocators), every
// source's process holding its memory at once while they hash in turns.
#pragma once

#include "free_pages.h"
#include "paired_statistics.h"
#include "peer_libraries.h"
#include "progress.h"

#include <xmem/huge_pages.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace xmem::bench {

struct Source {
  std::string name;
  std::vector<std::string> environment;  ///< NAME=VALUE added for the run
  std::vector<std::string> arguments;    ///< for xmem-randomx
  PageNeeds needs;                       ///< free pages it needs (none: nothing reserved)
  std::string unavailable;               ///< why it cannot run here
};

/// The sources, in fast mode or `light` (the cache only), for `threads` workers. `preload` is
/// libxmem-preload.so (empty: not found); `findLibrary` finds the peer allocators.
std::vector<Source> sources(bool light, unsigned threads, const std::string& preload, const LibraryLookup& findLibrary);

/// What a source holds while the others run: its dataset, cache and scratchpads, or the explicit
/// pages it has reserved for them when that is more.
std::uint64_t bytesHeld(const Source& source, bool light, unsigned threads);

struct SourceResult {
  std::string name;
  std::string skipped;
  nlohmann::json ready;       ///< xmem-randomx's line once initialised: init time, hashes right, where its pages are
  std::vector<double> rates;  ///< H/s in each round (NaN where it did not hash)
  MedianInterval rate() const { return medianWithInterval(rates); }
  bool measured() const { return skipped.empty() && !ready.is_null(); }
};

struct RandomxRun {
  std::string runner;  ///< xmem-randomx; empty when it was not built
  bool light = false;
  unsigned threads = 1;
  unsigned rounds = 1;
  double seconds = 1;  ///< each source's hashing per round
};

/// Every source at once, hashing in turns (see source_rounds.cpp), with the pages each needs free
/// in `counts` while it starts.
std::vector<SourceResult> runSources(const std::vector<Source>& all, const RandomxRun& run, ScopedFreeHugePages& counts,
                                     const Say& say);

/// The system allocator's result, the bar the others are compared with, when it was measured.
const SourceResult* systemSource(const std::vector<SourceResult>& results);
/// `source`'s hashrate over the system allocator's, per round; 0 without one.
double ratioToSystem(const SourceResult& source, const SourceResult* system);

}  // namespace xmem::bench
