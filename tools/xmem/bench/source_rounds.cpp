// Every source at once, hashing in turns. One after the other, each source's process starts and
// initialises alone on every core (1 GiB pages first, while long free runs exist), with exactly the
// explicit pages it needs free; it then holds its dataset. In each round every source hashes for
// `seconds` in turn, the order rotating from round to round, so the drift of a shared machine
// reaches each source in every round and per-round ratios cancel it.
#include "interrupt.h"
#include "served_child.h"
#include "sources.h"

#include <xmem/error.h>
#include <xmem/system_info.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

namespace xmem::bench {
namespace {

/// The most 1 GiB pages first, then 2 MiB ones: what needs long free runs goes before memory fills.
std::vector<std::size_t> startOrder(const std::vector<Source>& all) {
  std::vector<std::size_t> order(all.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    auto rank = [](const Source& s) {
      return std::pair{-static_cast<std::int64_t>(s.needs.oneGbPages), s.needs.twoMbPages == 0};
    };
    return rank(all[a]) < rank(all[b]);
  });
  return order;
}

/// The sources' processes and their results, side by side.
class Children {
 public:
  Children(const std::vector<Source>& all, const RandomxRun& run) : children_(all.size()) {
    for (const auto& source : all) {
      results_.push_back({source.name, source.unavailable, nullptr, std::vector<double>(run.rounds, std::nan(""))});
      if (results_.back().skipped.empty() && run.runner.empty())
        results_.back().skipped = "xmem-randomx not built (Debian package librandomx-dev)";
    }
  }

  SourceResult& result(std::size_t i) { return results_[i]; }
  ServedChild* child(std::size_t i) { return children_[i].get(); }

  void fail(std::size_t i, const std::string& why) {
    results_[i].skipped = why;
    results_[i].ready = nullptr;
    children_[i].reset();
  }

  /// Starts source `i` and reads its line once initialised; on failure, says why in its result.
  void start(std::size_t i, const Source& source, const RandomxRun& run) {
    std::vector<std::string> argv = {run.runner, "--serve", "--threads", std::to_string(run.threads)};
    if (run.light) argv.push_back("--light");
    argv.insert(argv.end(), source.arguments.begin(), source.arguments.end());
    try {
      children_[i] = std::make_unique<ServedChild>(argv, source.environment);
    } catch (const Error& error) {
      return fail(i, error.what());
    }
    const auto line = children_[i]->readJsonLine();
    if (!line) {
      auto why = "xmem-randomx " + children_[i]->finish();
      if (why.find("exited 3") != std::string::npos) why += " (librandomx could not allocate)";
      return fail(i, why);
    }
    try {
      results_[i].ready = nlohmann::json::parse(*line);
    } catch (const std::exception&) {
      return fail(i, "unreadable output from xmem-randomx: " + *line);
    }
    if (!results_[i].ready.value("hashes_right", false)) fail(i, "wrong hashes: " + children_[i]->why());
  }

  /// Source `i` hashes for `seconds`: its rate in `round`.
  void hash(std::size_t i, unsigned round, double seconds) {
    std::optional<std::string> line;
    if (children_[i]->send(fmt::format("hash {}", seconds))) line = children_[i]->readJsonLine();
    if (!line) return fail(i, "xmem-randomx " + children_[i]->finish());
    try {
      results_[i].rates[round] = nlohmann::json::parse(*line).at("hashes_per_second").get<double>();
    } catch (const std::exception&) {
      fail(i, "unreadable output from xmem-randomx: " + *line);
    }
  }

  /// Ends every process; one that ends badly loses its figures.
  std::vector<SourceResult> finish() {
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (children_[i])
        if (auto why = children_[i]->finish(); !why.empty()) fail(i, "xmem-randomx " + why);
    return std::move(results_);
  }

 private:
  std::vector<SourceResult> results_;
  std::vector<std::unique_ptr<ServedChild>> children_;
};

/// Why a source cannot hold its memory beside the ones started before it; empty when it can.
std::string roomFor(const Source& source, const RandomxRun& run) {
  constexpr std::uint64_t kMargin = 512 * MiB;  // for the system itself
  const auto available = SystemInfo::refresh()->memoryAvailable;
  const auto needed = bytesHeld(source, run.light, run.threads);
  if (available == 0 || available >= needed + kMargin) return {};
  return fmt::format("not enough memory to hold it beside the other sources: needs {} + {} spare, {} available",
                     formatBytes(needed), formatBytes(kMargin), formatBytes(available));
}

}  // namespace

std::vector<SourceResult> runSources(const std::vector<Source>& all, const RandomxRun& run, ScopedFreeHugePages& counts,
                                     const Say& say) {
  Children children(all, run);
  std::size_t started = 0;
  for (const std::size_t i : startOrder(all)) {
    auto& result = children.result(i);
    if (!result.skipped.empty() || interrupted()) continue;
    if (result.skipped = roomFor(all[i], run); !result.skipped.empty()) continue;
    if (result.skipped = makeFree(counts, all[i].needs); !result.skipped.empty()) continue;
    say(fmt::format("RandomX source {}/{}: {} ({} mode, initialising on {} thread(s))", ++started, all.size(),
                    all[i].name, run.light ? "light" : "fast", run.threads));
    children.start(i, all[i], run);
  }
  for (unsigned round = 0; round < run.rounds && !interrupted(); ++round) {
    say(fmt::format("round {}/{}: every source hashes {} s in turn", round + 1, run.rounds, run.seconds));
    for (std::size_t k = 0; k < all.size() && !interrupted(); ++k)
      if (const std::size_t i = (k + round) % all.size(); children.child(i) != nullptr) children.hash(i, round, run.seconds);
  }
  auto results = children.finish();
  counts.restore();
  return results;
}

}  // namespace xmem::bench
