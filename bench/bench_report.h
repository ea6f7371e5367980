// A console reporter that also keeps each benchmark's figures, so a benchmark program can print
// ratios between strategies measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace xmem::bench {

struct Figures {
  double nanosecondsPerIteration = 0;  // real time
  double bytesPerSecond = 0;
};

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  CollectingReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      Figures figures;
      figures.nanosecondsPerIteration = run.GetAdjustedRealTime() * multiplier(run.time_unit);
      auto bytes = run.counters.find("bytes_per_second");
      if (bytes != run.counters.end()) figures.bytesPerSecond = bytes->second.value;
      // Name without the "/iterations:N/real_time" decorations; threads stay in ("threads:2").
      std::string name = run.run_name.function_name;
      if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
      if (!run.run_name.threads.empty()) name += "/" + run.run_name.threads;
      figures_[name] = figures;
    }
  }

  const std::map<std::string, Figures>& figures() const { return figures_; }
  const Figures* find(const std::string& name) const {
    auto found = figures_.find(name);
    return found == figures_.end() ? nullptr : &found->second;
  }

 private:
  static double multiplier(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kNanosecond: return 1;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kSecond: return 1e9;
    }
    return 1;
  }

  std::map<std::string, Figures> figures_;
};

}  // namespace xmem::bench
