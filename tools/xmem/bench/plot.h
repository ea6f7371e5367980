// `xmem bench --svg`: the ratios as a bar chart.
#pragma once

#include "sources.h"
#include "strategies.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace xmem::bench {

using Bars = std::vector<std::pair<std::string, double>>;

/// Each librandomx source's ratio to the system allocator, then the RandomX-shaped loop of each
/// strategy on `node` over 4 KiB pages.
Bars ratioBars(const std::vector<StrategyResult>& strategies, const std::vector<SourceResult>& sources, std::uint32_t node);

/// Writes the bars (xmem's in blue), with a dashed line at 1x. False when the file cannot be written.
bool writeSvg(const std::string& path, const Bars& bars, const std::string& title);

}  // namespace xmem::bench
