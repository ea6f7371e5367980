#include "plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

namespace xmem::bench {

Bars ratioBars(const std::vector<StrategyResult>& strategies, const std::vector<SourceResult>& sources, std::uint32_t node) {
  Bars bars;
  const SourceResult* system = systemSource(sources);
  for (const auto& source : sources)
    if (source.measured() && system != nullptr) bars.emplace_back(source.name, ratioToSystem(source, system));
  const auto base = baselines(strategies)[node];
  for (const auto& result : strategies)
    if (result.skipped.empty() && result.node == node && base.rxKit > 0)
      bars.emplace_back("RandomX-like loop, " + result.name, result.median().rxKit / base.rxKit);
  return bars;
}

bool writeSvg(const std::string& path, const Bars& bars, const std::string& title) {
  std::ofstream svg(path);
  const int rowHeight = 22, left = 260, width = 760;
  double most = 1.0;
  for (const auto& [name, value] : bars) most = std::max(most, value);
  const double scale = (width - left - 80) / most;
  svg << fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
                     "font-size=\"12\">\n",
                     width, 40 + rowHeight * static_cast<int>(bars.size()));
  svg << fmt::format("<text x=\"10\" y=\"20\" font-size=\"14\">{}</text>\n", title);
  const double one = left + scale;
  int y = 32;
  for (const auto& [name, value] : bars) {
    svg << fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 8, y + 14, name);
    svg << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\"/>\n", left, y + 2, value * scale,
                       name.starts_with("xmem") ? "#2a7ab0" : "#999999");
    svg << fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.2f}x</text>\n", left + value * scale + 6, y + 14, value);
    y += rowHeight;
  }
  svg << fmt::format("<line x1=\"{0:.1f}\" y1=\"28\" x2=\"{0:.1f}\" y2=\"{1}\" stroke=\"black\" stroke-dasharray=\"3,3\"/>\n",
                     one, y);
  svg << "</svg>\n";
  return static_cast<bool>(svg);
}

}  // namespace xmem::bench
