// The targets the project set itself, judged from the figures of one run, never asserted.
#pragma once

#include "paired_statistics.h"
#include "sources.h"
#include "strategies.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xmem::bench {

struct Target {
  std::string what;
  MedianInterval ratio;  ///< measured / the bar it is compared with, per round
  double goal = 0;       ///< the ratio that meets it
  std::string figures;
};

/// The targets the run has the figures for: per node, xmem auto's reads against 1 GiB pages and its
/// pre-fault against memset; xmem's hashrate against the best peer, its dataset initialisation
/// against librandomx's own large pages.
std::vector<Target> judgeTargets(const std::vector<StrategyResult>& strategies, const std::vector<SourceResult>& sources,
                                 const std::vector<std::uint32_t>& nodes);

/// "met", "level" or "not met"; "not judged" for a quick run: one round of short loops cannot
/// tell a shortfall from noise.
std::string verdictOf(const Target& target, bool quick);

}  // namespace xmem::bench
