#include "json_report.h"

namespace xmem::bench {
namespace {

nlohmann::json strategiesJson(const std::vector<StrategyResult>& strategies) {
  nlohmann::json synthetic = nlohmann::json::array();
  for (const auto& result : strategies) {
    nlohmann::json entry = {{"strategy", result.name}, {"node", result.node}};
    if (!result.skipped.empty()) {
      entry["skipped"] = result.skipped;
    } else {
      const auto m = result.median();
      entry.update({{"alloc_touch_gbs", m.touchGBs}, {"alloc_prefault_touch_gbs", m.prefaultTouchGBs},
                    {"retouch_gbs", m.retouchGBs}, {"alloc_prefault_gbs", m.prefaultGBs},
                    {"memset_faulted_gbs", m.memsetGBs}, {"dependent_read_ns", m.latencyNs},
                    {"independent_reads_m", m.readsM}, {"randomx_shaped_kit", m.rxKit},
                    {"randomx_shaped_prefetch_kit", m.rxPrefetchKit}, {"got", m.got}});
    }
    synthetic.push_back(entry);
  }
  return synthetic;
}

nlohmann::json sourcesJson(const std::vector<SourceResult>& sources) {
  nlohmann::json real = nlohmann::json::array();
  const SourceResult* system = systemSource(sources);
  for (const auto& source : sources) {
    nlohmann::json entry = {{"source", source.name}};
    if (!source.measured()) {
      entry["skipped"] = source.skipped;
    } else {
      const auto rate = source.rate();
      auto& figures = entry["figures"] = source.ready;
      figures.update({{"hashes_per_second", rate.median}, {"hashes_per_second_rounds", source.rates},
                      {"hashes_per_second_low", rate.low}, {"hashes_per_second_high", rate.high},
                      {"confidence", rate.confidence}, {"ratio_to_system", ratioToSystem(source, system)}});
      for (const char* perRound : {"ready", "hashes", "hash_seconds"}) figures.erase(perRound);
    }
    real.push_back(entry);
  }
  return real;
}

nlohmann::json targetsJson(const std::vector<Target>& targets, bool quick) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& target : targets)
    list.push_back({{"target", target.what}, {"ratio", target.ratio.median}, {"ratio_low", target.ratio.low},
                    {"ratio_high", target.ratio.high}, {"confidence", target.ratio.confidence}, {"goal", target.goal},
                    {"verdict", verdictOf(target, quick)}, {"figures", target.figures}});
  return list;
}

}  // namespace

nlohmann::json jsonReport(const Settings& settings, const Results& results) {
  return {{"profile", settings.profile->name},        {"threads", settings.threads},
          {"rounds", settings.rounds},                {"quick", settings.quick},
          {"buffer_bytes", settings.bufferSize},      {"synthetic", strategiesJson(results.strategies)},
          {"randomx", sourcesJson(results.sources)},  {"targets", targetsJson(results.targets, settings.quick)}};
}

}  // namespace xmem::bench
