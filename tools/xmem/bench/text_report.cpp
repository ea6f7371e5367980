#include "text_report.h"

#include <xmem/types.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace xmem::bench {
namespace {

std::string ratio(double value, double base, bool lowerIsBetter = false) {
  if (base <= 0 || value <= 0) return "";
  return fmt::format("{:.2f}x", lowerIsBetter ? base / value : value / base);
}

void printNode(std::ostream& out, const std::vector<StrategyResult>& results, std::uint32_t node, const Figures& base) {
  fmt::print(out, "\nNode {}: medians, and ratios to 4 KiB pages (higher is better; +prefetch: to the same pages "
                  "without the prefetch)\n", node);
  fmt::print(out, "  {:<11} {:>16} {:>16} {:>14} {:>16} {:>16} {:>16}\n", "pages", "alloc+touch GB/s",
             "+prefault GB/s", "latency ns", "reads M/s", "RandomX-like k/s", "+prefetch k/s");
  auto cell = [](double value, const std::string& r) { return fmt::format("{:.2f} {:>6}", value, r); };
  for (const auto& result : results) {
    if (result.node != node) continue;
    if (!result.skipped.empty()) {
      fmt::print(out, "  {:<11} skipped: {}\n", result.name, result.skipped);
      continue;
    }
    const auto m = result.median();
    fmt::print(out, "  {:<11} {:>16} {:>16} {:>14} {:>16} {:>16} {:>16}\n", result.name,
               cell(m.touchGBs, ratio(m.touchGBs, base.touchGBs)), cell(m.prefaultTouchGBs, ratio(m.prefaultTouchGBs, base.touchGBs)),
               cell(m.latencyNs, ratio(m.latencyNs, base.latencyNs, true)), cell(m.readsM, ratio(m.readsM, base.readsM)),
               cell(m.rxKit, ratio(m.rxKit, base.rxKit)), cell(m.rxPrefetchKit, ratio(m.rxPrefetchKit, m.rxKit)));
  }
}

void printSources(std::ostream& out, const Settings& settings, const std::vector<SourceResult>& sources) {
  double confidence = 0;
  for (const auto& source : sources)
    if (source.measured()) confidence = source.rate().confidence;
  fmt::print(out, "\nRandomX with librandomx ({} mode, {} thread(s)): every source holds its memory at once and hashes "
                  "{} s in turn, {} round(s); medians, the range that holds the median with {:.0f}% confidence, and "
                  "ratios to the system allocator in the same rounds\n",
             settings.light() ? "light" : "fast", settings.threads, settings.hashSeconds, settings.randomxRounds,
             confidence * 100);
  fmt::print(out, "  {:<31} {:>9} {:>13} {:>7} {:>9} {:>10} {:>10}\n", "memory from", "H/s", "range", "ratio", "init s",
             "huge MiB", "1 GiB MiB");
  const SourceResult* system = systemSource(sources);
  for (const auto& source : sources) {
    if (!source.measured()) {
      fmt::print(out, "  {:<31} skipped: {}\n", source.name, source.skipped);
      continue;
    }
    const auto& f = source.ready;
    const auto rate = source.rate();
    fmt::print(out, "  {:<31} {:>9.1f} {:>13} {:>6.2f}x {:>9.2f} {:>10} {:>10}\n", source.name, rate.median,
               fmt::format("{:.0f}-{:.0f}", rate.low, rate.high), ratioToSystem(source, system), f.value("init_seconds", 0.0),
               f.value("huge_bytes", std::size_t{0}) / MiB, f.value("gigabyte_page_bytes", std::size_t{0}) / MiB);
  }
}

void printTargets(std::ostream& out, const std::vector<Target>& targets, bool quick) {
  fmt::print(out, "\nTargets: median ratios per round, the range that holds them as above (level: below the goal, but "
                  "not by more than the measurement can show){}\n",
             quick ? ". A quick run is too short to judge them: run the full bench for verdicts" : "");
  for (const auto& target : targets) {
    const auto said = verdictOf(target, quick);
    fmt::print(out, "  {:<7} {:.2f}x (goal {:.2f}x; range {:.2f}-{:.2f}x; {}): {}\n", said == "not met" ? "NOT MET" : said,
               target.ratio.median, target.goal, target.ratio.low, target.ratio.high, target.figures, target.what);
  }
}

}  // namespace

void printTables(std::ostream& out, const Settings& settings, const Results& results) {
  fmt::print(out, "xmem bench: {} ({}), buffer {}, {} thread(s), {} round(s){}\n", settings.profile->name,
             settings.profile->description, formatBytes(settings.bufferSize), settings.threads, settings.rounds,
             settings.quick ? ", quick" : "");
  if (settings.synthetic) {
    auto baseline = baselines(results.strategies);
    for (const auto node : settings.nodes) printNode(out, results.strategies, node, baseline[node]);
  }
  if (!results.sources.empty()) printSources(out, settings, results.sources);
  if (!results.targets.empty()) printTargets(out, results.targets, settings.quick);
}

}  // namespace xmem::bench
