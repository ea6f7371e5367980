#include "verdicts.h"

#include <fmt/format.h>

namespace xmem::bench {
namespace {

void judgeNode(const std::vector<StrategyResult>& results, std::uint32_t node, std::vector<Target>& targets) {
  const auto* automatic = findStrategy(results, "xmem auto", node);
  if (automatic == nullptr) return;
  const auto ours = automatic->median();
  if (const auto* oneGb = findStrategy(results, "1 GiB", node))
    targets.push_back({fmt::format("node {}: xmem auto's random reads vs 1 GiB pages", node),
                       pairedRatio(automatic->series(&Figures::readsM), oneGb->series(&Figures::readsM)), 0.99,
                       fmt::format("{:.1f} vs {:.1f} M/s", ours.readsM, oneGb->median().readsM)});
  targets.push_back({fmt::format("node {}: xmem auto's allocation + pre-fault on all cores vs memset over faulted memory", node),
                     pairedRatio(automatic->series(&Figures::prefaultGBs), automatic->series(&Figures::memsetGBs)), 0.80,
                     fmt::format("{:.2f} vs {:.2f} GB/s", ours.prefaultGBs, ours.memsetGBs)});
}

void judgeSources(const std::vector<SourceResult>& sources, std::vector<Target>& targets) {
  const SourceResult* xmem = nullptr;
  const SourceResult* reserved = nullptr;
  const SourceResult* bestPeer = nullptr;
  for (const auto& source : sources) {
    if (!source.measured()) continue;
    if (source.name == "xmem (no pages reserved)") xmem = &source;
    if (source.name == "librandomx LARGE_PAGES") reserved = &source;
    if (source.name.starts_with("xmem") || source.name.starts_with("system")) continue;
    if (bestPeer == nullptr || source.rate().median > bestPeer->rate().median) bestPeer = &source;
  }
  if (xmem != nullptr && bestPeer != nullptr)
    targets.push_back({"xmem's hashrate (no pages reserved) vs the best peer (" + bestPeer->name + ")",
                       pairedRatio(xmem->rates, bestPeer->rates), 1.0,
                       fmt::format("{:.1f} vs {:.1f} H/s", xmem->rate().median, bestPeer->rate().median)});
  // The target is about the dataset: light mode's cache takes a fraction of a second, mostly start-up.
  if (xmem == nullptr || reserved == nullptr || xmem->ready.value("mode", "") != "fast") return;
  const double ours = xmem->ready.value("init_seconds", 0.0), theirs = reserved->ready.value("init_seconds", 0.0);
  if (ours > 0)
    targets.push_back({"initialisation speed on xmem (no pages reserved) vs librandomx on reserved hugetlb pages",
                       medianWithInterval({theirs / ours}), 1.0, fmt::format("{:.2f} s vs {:.2f} s", ours, theirs)});
}

}  // namespace

std::vector<Target> judgeTargets(const std::vector<StrategyResult>& strategies, const std::vector<SourceResult>& sources,
                                 const std::vector<std::uint32_t>& nodes) {
  std::vector<Target> targets;
  for (const auto node : nodes) judgeNode(strategies, node, targets);
  judgeSources(sources, targets);
  return targets;
}

std::string verdictOf(const Target& target, bool quick) {
  return quick ? std::string("not judged") : verdict(target.ratio, target.goal);
}

}  // namespace xmem::bench
