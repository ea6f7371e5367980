// The benchmark harness behind `xmem bench`, as one call: the synthetic part (every page strategy
// on every node), then the real workload (librandomx from every memory source), then the targets
// judged. The command resolves its flags into Settings and prints what comes back.
#pragma once

#include "peer_libraries.h"
#include "progress.h"
#include "sources.h"
#include "strategies.h"
#include "verdicts.h"

#include <xmem/profiles.h>

#include <cstdint>
#include <string>
#include <vector>

namespace xmem::bench {

struct Settings {
  const MemoryProfile* profile = nullptr;
  bool quick = false;
  std::size_t bufferSize = 0;       ///< bytes of the synthetic buffer
  std::vector<std::uint32_t> nodes; ///< where the synthetic part runs
  unsigned threads = 1;
  unsigned rounds = 1;              ///< synthetic rounds
  unsigned randomxRounds = 1;
  double hashSeconds = 1;
  bool synthetic = true;
  bool randomx = true;
  std::string runner;               ///< xmem-randomx; empty when not built
  std::string preloadLibrary;       ///< libxmem-preload.so; empty when not found
  LibraryLookup findLibrary;        ///< for the peer allocators
  /// The real workload in light mode: a quick run, or a profile without a dataset.
  bool light() const { return quick || profile->datasetSize == 0; }
};

struct Results {
  std::vector<StrategyResult> strategies;
  std::vector<SourceResult> sources;  ///< empty when the librandomx part did not run
  std::vector<Target> targets;
  bool interrupted = false;           ///< stopped early by a signal: the figures are not complete
};

/// Runs what `settings` asks, putting every huge page count back before it returns (also when a
/// signal stops it early).
Results run(const Settings& settings, const Say& say);

}  // namespace xmem::bench
