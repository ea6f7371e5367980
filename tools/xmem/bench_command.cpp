#include "bench_command.h"

#include "bench_kernels.h"
#include "paired_statistics.h"
#include "served_child.h"
#include "run_command.h"
#include "text_output.h"
#include "workload_options.h"

#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/profiles.h>
#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>

namespace xmem::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- stopping early: Ctrl-C or SIGTERM end the run after the current step, page counts restored ----

std::atomic<bool> interrupted{false};

void onInterrupt(int signal) {
  interrupted.store(true);
  constexpr char kMessage[] = "\n... stopping after this step; the page counts will be put back "
                              "(a second signal stops at once: then run `xmem release`)\n";
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  std::signal(signal, SIG_DFL);
}

// ---- huge page counts: what each strategy needs free, and the machine's own counts afterwards ----

/// Sets the free counts a strategy or source needs, of each size (1 GiB pages first: they need long
/// runs of free memory), none free of a size it does not need, as on a machine where nothing was
/// reserved for it (when not root: the machine as it is). Empty, or why not.
std::string prepare(ScopedFreeHugePages& counts, std::uint64_t oneGbPages, std::uint64_t twoMbPages) {
  std::string why;
  for (auto [pageSize, count] : {std::pair{kOneGbPageSize, oneGbPages}, std::pair{kHugePageSize, twoMbPages}}) {
    try {
      const auto reservation = counts.makeFree(pageSize, count);
      if (!reservation.complete() && count != 0)
        why = fmt::format("the kernel gave {} of {} {} pages{}", count - (reservation.target - reservation.after), count,
                          formatBytes(pageSize), reservation.advice.empty() ? "" : " (" + reservation.advice + ")");
    } catch (const Error& error) {
      if (count != 0) why = error.what();  // none needed: not root, or no such size, leaves the machine as it is
    }
    if (!why.empty()) break;
  }
  if (!why.empty())
    why = "needs " + (oneGbPages != 0 ? std::to_string(oneGbPages) + " x 1 GiB + " : std::string()) +
          std::to_string(twoMbPages) + " x 2 MiB pages free: " + why;
  return why;
}

// ---- the synthetic part: one buffer per strategy ----

struct Strategy {
  std::string name;
  std::function<void(VirtualMemoryOptions&)> shape;
  std::uint64_t twoMbPages = 0;  ///< free pages it needs set up (0 and 0: the machine as it is)
  std::uint64_t oneGbPages = 0;
  std::function<bool(const AllocationReport&)> gotIt;  ///< did the allocation get what the strategy means
  std::string notHere;           ///< why it cannot mean anything for this buffer
};

/// Strategies for a buffer of `size`, with `threads` 2 MiB scratchpads beside it.
std::vector<Strategy> strategies(std::size_t size, unsigned threads) {
  const std::uint64_t twoMb = (size + kHugePageSize - 1) / kHugePageSize + threads;
  const std::uint64_t gigabytes = size / kOneGbPageSize;
  const std::uint64_t tail = (size - gigabytes * kOneGbPageSize + kHugePageSize - 1) / kHugePageSize + threads;
  auto none = [](VirtualMemoryOptions& o) {
    o.hugePages = false;
    o.transparentHugePages = false;
  };
  std::vector<Strategy> list = {
      {"4 KiB", none, 0, 0, [](const AllocationReport& r) { return r.bytesOf(PageKind::Base) == r.mappedSize; }, {}},
      {"THP", [](VirtualMemoryOptions& o) { o.hugePages = false; }, 0, 0,
       [](const AllocationReport& r) { return r.thpEligibleBytes() == r.mappedSize; }, {}},
      {"2 MiB", [](VirtualMemoryOptions& o) { o.transparentHugePages = false; o.partialHugePages = false; }, twoMb, 0,
       [](const AllocationReport& r) { return r.bytesOf(PageKind::HugeTlb, kHugePageSize) == r.mappedSize; }, {}},
      {"1 GiB", [](VirtualMemoryOptions& o) { o.oneGbPages = true; o.transparentHugePages = false; }, tail, gigabytes,
       [](const AllocationReport& r) { return r.bytesOf(PageKind::HugeTlb, kOneGbPageSize) != 0; }, {}},
      {"partial", [](VirtualMemoryOptions& o) { o.oneGbPages = false; }, twoMb / 2, 0,
       [](const AllocationReport& r) { return r.hugeTlbBytes() != 0 && r.thpEligibleBytes() != 0; }, {}},
      // xmem's own choice on the machine as it is: nothing reserved for it.
      {"xmem auto", [](VirtualMemoryOptions& o) { o.oneGbPages = true; }, 0, 0,
       [](const AllocationReport&) { return true; }, {}},
  };
  if (gigabytes == 0) list[3].notHere = "the buffer is smaller than one 1 GiB page";
  return list;
}

struct Figures {
  double touchGBs = 0;          ///< allocation + first touch, one thread
  double prefaultTouchGBs = 0;  ///< allocation with pre-fault on every core, then the touch
  double retouchGBs = 0;        ///< the same touch over faulted memory (what first touch aims for)
  double prefaultGBs = 0;       ///< allocation with pre-fault on every core, nothing else
  double memsetGBs = 0;         ///< memset over the faulted buffer (the bar for pre-faulting)
  double latencyNs = 0;
  double readsM = 0;            ///< independent reads, millions per second
  double rxKit = 0;             ///< RandomX-shaped loop, thousand iterations per second
  double rxPrefetchKit = 0;
  std::string got;              ///< the allocation's summary
};

struct StrategyResult {
  std::string name;
  std::uint32_t node = 0;
  std::string skipped;          ///< why it did not run
  std::vector<Figures> rounds;
  Figures median() const {
    Figures m;
    auto pick = [&](double Figures::*field) {
      std::vector<double> values;
      for (const auto& round : rounds) values.push_back(round.*field);
      return medianWithInterval(std::move(values)).median;
    };
    for (auto field : {&Figures::touchGBs, &Figures::prefaultTouchGBs, &Figures::retouchGBs, &Figures::prefaultGBs, &Figures::memsetGBs, &Figures::latencyNs,
                       &Figures::readsM, &Figures::rxKit, &Figures::rxPrefetchKit})
      m.*field = pick(field);
    if (!rounds.empty()) m.got = rounds.back().got;
    return m;
  }
};

struct Work {
  std::size_t reads;
  std::size_t readsPerThread;
  std::size_t iterationsPerThread;
};

Figures measure(const Strategy& strategy, std::size_t size, std::uint32_t node, unsigned threads, const Work& work) {
  VirtualMemoryOptions base;
  base.size = size;
  base.node = node;
  base.numaPolicy = NumaPolicy::Bind;
  base.alignment = kHugePageSize;
  strategy.shape(base);
  Figures figures;
  {
    const auto start = Clock::now();
    VirtualMemory memory(base);
    bench::touch(memory.data(), size);
    figures.touchGBs = static_cast<double>(size) / std::chrono::duration<double>(Clock::now() - start).count() / 1e9;
  }
  auto prefaulted = base;
  prefaulted.prefaultThreads = threads;
  const auto start = Clock::now();
  VirtualMemory memory(prefaulted);
  const double allocationSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  bench::touch(memory.data(), size);
  const double gigabytes = static_cast<double>(size) / 1e9;
  figures.prefaultTouchGBs = gigabytes / std::chrono::duration<double>(Clock::now() - start).count();
  figures.prefaultGBs = gigabytes / allocationSeconds;
  figures.retouchGBs = gigabytes / bench::touch(memory.data(), size);
  figures.memsetGBs = gigabytes / bench::fill(memory.data(), size);
  if (!strategy.gotIt(memory.report())) throw Error(ErrorCode::Unsupported, "got " + memory.report().summary());
  figures.got = memory.report().summary();
  figures.latencyNs = bench::dependentReadNs(memory.data(), size, work.reads);
  figures.readsM = bench::independentReadsPerSecond(memory.data(), size, work.readsPerThread, threads);
  // Each thread's scratchpad on the strategy's pages too.
  VirtualMemoryOptions padOptions = base;
  padOptions.size = bench::kScratchpadSize * threads;
  padOptions.oneGbPages = false;
  VirtualMemory pads(padOptions);
  std::vector<std::uint8_t*> scratchpads;
  for (unsigned t = 0; t < threads; ++t) scratchpads.push_back(pads.data() + t * bench::kScratchpadSize);
  std::memset(pads.data(), 0, pads.size());
  figures.rxKit = bench::randomxShapedIterationsPerSecond(memory.data(), size, scratchpads.data(), work.iterationsPerThread,
                                                          threads, false);
  figures.rxPrefetchKit = bench::randomxShapedIterationsPerSecond(memory.data(), size, scratchpads.data(),
                                                                  work.iterationsPerThread, threads, true);
  return figures;
}

// ---- the real workload: librandomx, once per memory source ----

struct Source {
  std::string name;
  std::vector<std::string> environment;  ///< NAME=VALUE added for the run
  std::vector<std::string> arguments;    ///< for xmem-randomx
  std::uint64_t twoMbPages = 0;          ///< free pages it needs (0 and 0: none reserved)
  std::uint64_t oneGbPages = 0;
  std::string unavailable;               ///< why it cannot run here
};

std::string findNextToSelf(const std::string& name) {
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error && fs::exists(self.parent_path() / name, error)) return (self.parent_path() / name).string();
  return {};
}

std::string findLibrary(const std::string& name) {
  std::error_code error;
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"})
    if (fs::exists(fs::path(dir) / name, error)) return (fs::path(dir) / name).string();
  return {};
}

std::vector<Source> sources(bool light, unsigned threads) {
  const std::uint64_t cache = 128, scratchpads = threads + 2;
  const std::uint64_t dataset = light ? 0 : 1040;
  std::vector<Source> all;
  all.push_back({"system allocator (4 KiB)", {}, {}, 0, 0, {}});
  all.push_back({"librandomx LARGE_PAGES", {}, {"--large-pages"}, dataset + cache + scratchpads, 0, {}});
  const std::string preload = findPreloadLibrary();
  const std::string noPreload = preload.empty() ? "libxmem-preload.so not found" : "";
  all.push_back({"xmem (no pages reserved)", {"LD_PRELOAD=" + preload}, {}, 0, 0, noPreload});
  if (!light)
    all.push_back({"xmem, 1 GiB dataset", {"LD_PRELOAD=" + preload}, {}, 16 + cache + scratchpads + 8, 2, noPreload});
  all.push_back({"glibc hugetlb=1 (THP)", {"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, {}, 0, 0, {}});
  all.push_back({"glibc hugetlb=2 (reserved)", {"GLIBC_TUNABLES=glibc.malloc.hugetlb=2"}, {}, dataset + cache + scratchpads + 8, 0, {}});
  const std::string mimalloc = findLibrary("libmimalloc.so.2");
  // mimalloc 2.0's large OS pages are reserved 2 MiB pages (MAP_HUGETLB; no MADV_HUGEPAGE otherwise),
  // and it maps a block of 2 GiB by over-allocating, without them: they reach the cache, not the
  // dataset, so it gets only the pages it can use.
  all.push_back({"mimalloc, large OS pages", {"LD_PRELOAD=" + mimalloc, "MIMALLOC_LARGE_OS_PAGES=1"}, {},
                 cache + scratchpads + 8, 0,
                 mimalloc.empty() ? "libmimalloc.so.2 not installed (Debian package libmimalloc2.0)" : ""});
  // mimalloc's own way to huge pages for big blocks: 1 GiB pages reserved at start-up (its arena).
  const std::uint64_t mimallocGigabytes = (dataset + cache + scratchpads) * kHugePageSize / kOneGbPageSize + 1;
  all.push_back({"mimalloc, 1 GiB pages reserved",
                 {"LD_PRELOAD=" + mimalloc, "MIMALLOC_LARGE_OS_PAGES=1",
                  "MIMALLOC_RESERVE_HUGE_OS_PAGES=" + std::to_string(mimallocGigabytes)},
                 {}, 8, mimallocGigabytes, all.back().unavailable});
  const std::string jemalloc = findLibrary("libjemalloc.so.2");
  all.push_back({"jemalloc, THP", {"LD_PRELOAD=" + jemalloc, "MALLOC_CONF=thp:always,metadata_thp:always"}, {}, 0, 0,
                 jemalloc.empty() ? "libjemalloc.so.2 not installed (Debian package libjemalloc2)" : ""});
  all.push_back({"memkind hugetlb", {}, {}, 0, 0,
                 "librandomx takes no caller memory, and Debian's memkind ships no preload with a hugetlb kind "
                 "(no libautohbw.so; libmemtier.so tiers DRAM and DAX only)"});
  return all;
}

struct SourceResult {
  std::string name;
  std::string skipped;
  nlohmann::json ready;       ///< xmem-randomx's line once initialised: init time, hashes right, where its pages are
  std::vector<double> rates;  ///< H/s in each round (NaN where it did not hash)
  MedianInterval rate() const { return medianWithInterval(rates); }
  bool measured() const { return skipped.empty() && !ready.is_null(); }
};

/// What a source holds while the others run: its dataset, cache and scratchpads, or the explicit
/// pages it has reserved for them when that is more.
std::uint64_t bytesHeld(const Source& source, bool light, unsigned threads) {
  const std::uint64_t own = (light ? 0 : 2080 * MiB) + 256 * MiB + threads * 2 * MiB;
  return std::max(own, source.oneGbPages * kOneGbPageSize + source.twoMbPages * kHugePageSize);
}

/// Every source at once, hashing in turns. One after the other, each source's process starts and
/// initialises alone on every core (1 GiB pages first, while long free runs exist), with exactly the
/// explicit pages it needs free; it then holds its dataset. In each round every source hashes for
/// `seconds` in turn, the order rotating from round to round, so the drift of a shared machine
/// reaches each source in every round and per-round ratios cancel it.
std::vector<SourceResult> runSources(const std::vector<Source>& all, const std::string& runner, bool light,
                                     unsigned threads, unsigned rounds, double seconds, ScopedFreeHugePages& counts,
                                     const std::function<void(const std::string&)>& say) {
  std::vector<SourceResult> results;
  for (const auto& source : all) {
    results.push_back({source.name, source.unavailable, nullptr, std::vector<double>(rounds, std::nan(""))});
    if (results.back().skipped.empty() && runner.empty())
      results.back().skipped = "xmem-randomx not built (Debian package librandomx-dev)";
  }
  std::vector<std::size_t> startOrder(all.size());
  std::iota(startOrder.begin(), startOrder.end(), std::size_t{0});
  // The most 1 GiB pages first, then 2 MiB ones: what needs long free runs goes before memory fills.
  std::stable_sort(startOrder.begin(), startOrder.end(), [&](std::size_t a, std::size_t b) {
    auto rank = [](const Source& s) { return std::pair{-static_cast<std::int64_t>(s.oneGbPages), s.twoMbPages == 0}; };
    return rank(all[a]) < rank(all[b]);
  });

  std::vector<std::unique_ptr<ServedChild>> children(all.size());
  auto fail = [&](std::size_t i, const std::string& why) {
    results[i].skipped = why;
    results[i].ready = nullptr;
    children[i].reset();
  };
  std::size_t started = 0;
  for (const std::size_t i : startOrder) {
    const auto& source = all[i];
    auto& result = results[i];
    if (!result.skipped.empty() || interrupted) continue;
    constexpr std::uint64_t kMargin = 512 * MiB;  // for the system itself
    const auto available = SystemInfo::refresh()->memoryAvailable;
    if (const auto needed = bytesHeld(source, light, threads); available != 0 && available < needed + kMargin) {
      result.skipped = fmt::format("not enough memory to hold it beside the other sources: needs {} + {} spare, {} available",
                                   formatBytes(needed), formatBytes(kMargin), formatBytes(available));
      continue;
    }
    if (auto why = prepare(counts, source.oneGbPages, source.twoMbPages); !why.empty()) {
      result.skipped = why;
      continue;
    }
    say(fmt::format("RandomX source {}/{}: {} ({} mode, initialising on {} thread(s))", ++started, all.size(), source.name,
                    light ? "light" : "fast", threads));
    std::vector<std::string> argv = {runner, "--serve", "--threads", std::to_string(threads)};
    if (light) argv.push_back("--light");
    argv.insert(argv.end(), source.arguments.begin(), source.arguments.end());
    try {
      children[i] = std::make_unique<ServedChild>(argv, source.environment);
    } catch (const Error& error) {
      fail(i, error.what());
      continue;
    }
    const auto line = children[i]->readJsonLine();
    if (!line) {
      auto why = "xmem-randomx " + children[i]->finish();
      if (why.find("exited 3") != std::string::npos) why += " (librandomx could not allocate)";
      fail(i, why);
      continue;
    }
    try {
      result.ready = nlohmann::json::parse(*line);
    } catch (const std::exception&) {
      fail(i, "unreadable output from xmem-randomx: " + *line);
      continue;
    }
    if (!result.ready.value("hashes_right", false)) fail(i, "wrong hashes: " + children[i]->why());
  }

  for (unsigned round = 0; round < rounds && !interrupted; ++round) {
    say(fmt::format("round {}/{}: every source hashes {} s in turn", round + 1, rounds, seconds));
    for (std::size_t k = 0; k < all.size() && !interrupted; ++k) {
      const std::size_t i = (k + round) % all.size();
      if (!children[i]) continue;
      std::optional<std::string> line;
      if (children[i]->send(fmt::format("hash {}", seconds))) line = children[i]->readJsonLine();
      if (!line) {
        fail(i, "xmem-randomx " + children[i]->finish());
        continue;
      }
      try {
        results[i].rates[round] = nlohmann::json::parse(*line).at("hashes_per_second").get<double>();
      } catch (const std::exception&) {
        fail(i, "unreadable output from xmem-randomx: " + *line);
      }
    }
  }
  for (std::size_t i = 0; i < all.size(); ++i)
    if (children[i])
      if (auto why = children[i]->finish(); !why.empty()) fail(i, "xmem-randomx " + why);
  return results;
}

// ---- the targets the project set itself: figures judged, never asserted ----

struct Target {
  std::string what;
  MedianInterval ratio;  ///< measured / the bar it is compared with, per round
  double goal = 0;       ///< the ratio that meets it
  std::string figures;
};

const StrategyResult* findStrategy(const std::vector<StrategyResult>& results, const std::string& name, std::uint32_t node) {
  for (const auto& result : results)
    if (result.name == name && result.node == node && result.skipped.empty() && !result.rounds.empty()) return &result;
  return nullptr;
}

/// One figure per round of a strategy.
std::vector<double> series(const StrategyResult& result, double Figures::*field) {
  std::vector<double> values;
  for (const auto& round : result.rounds) values.push_back(round.*field);
  return values;
}

std::vector<Target> judgeTargets(const std::vector<StrategyResult>& results, const std::vector<SourceResult>& workload,
                                 const SystemInfo& info) {
  std::vector<Target> targets;
  for (const auto& node : info.nodes) {
    const auto* automatic = findStrategy(results, "xmem auto", node.id);
    if (automatic == nullptr) continue;
    const auto ours = automatic->median();
    if (const auto* oneGb = findStrategy(results, "1 GiB", node.id))
      targets.push_back({fmt::format("node {}: xmem auto's random reads vs 1 GiB pages", node.id),
                         pairedRatio(series(*automatic, &Figures::readsM), series(*oneGb, &Figures::readsM)), 0.99,
                         fmt::format("{:.1f} vs {:.1f} M/s", ours.readsM, oneGb->median().readsM)});
    targets.push_back({fmt::format("node {}: xmem auto's allocation + pre-fault on all cores vs memset over faulted memory",
                                   node.id),
                       pairedRatio(series(*automatic, &Figures::prefaultGBs), series(*automatic, &Figures::memsetGBs)), 0.80,
                       fmt::format("{:.2f} vs {:.2f} GB/s", ours.prefaultGBs, ours.memsetGBs)});
  }
  const SourceResult* xmem = nullptr;
  const SourceResult* reserved = nullptr;
  const SourceResult* bestPeer = nullptr;
  for (const auto& source : workload) {
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
  if (xmem != nullptr && reserved != nullptr && xmem->ready.value("mode", "") == "fast") {
    const double ours = xmem->ready.value("init_seconds", 0.0), theirs = reserved->ready.value("init_seconds", 0.0);
    if (ours > 0)
      targets.push_back({"initialisation speed on xmem (no pages reserved) vs librandomx on reserved hugetlb pages",
                         medianWithInterval({theirs / ours}), 1.0, fmt::format("{:.2f} s vs {:.2f} s", ours, theirs)});
  }
  return targets;
}

// ---- output ----

std::string ratio(double value, double base, bool lowerIsBetter = false) {
  if (base <= 0 || value <= 0) return "";
  return fmt::format("{:.2f}x", lowerIsBetter ? base / value : value / base);
}

void writeSvg(const std::string& path, const std::vector<std::pair<std::string, double>>& bars, const std::string& title) {
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
}

}  // namespace

int runBench(const BenchOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.profile, "bench", err);
  if (profile == nullptr) return 2;
  const unsigned threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  const unsigned rounds = options.rounds != 0 ? options.rounds : options.quick ? 1 : 5;
  const unsigned randomxRounds = options.randomxRounds != 0 ? options.randomxRounds : options.quick ? 3 : 12;
  const double hashSeconds = options.hashSeconds > 0 ? options.hashSeconds : options.quick ? 0.6 : 3.0;
  const std::size_t size = options.buffer != 0          ? alignUp(options.buffer, kHugePageSize)
                           : profile->datasetSize != 0 ? profile->datasetSize
                           : profile->cacheSize != 0   ? profile->cacheSize
                                                       : 256 * MiB;
  const Work work = options.quick ? Work{2'000'000, 4'000'000, 200'000} : Work{12'000'000, 60'000'000, 4'000'000};
  auto info = SystemInfo::refresh();
  auto say = [&](const std::string& line) { fmt::print(err, "... {}\n", line); };
  interrupted = false;
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, onInterrupt);
  ScopedFreeHugePages counts;
  nlohmann::json report = {{"profile", profile->name}, {"threads", threads}, {"rounds", rounds},
                           {"quick", options.quick}, {"buffer_bytes", size}};

  // Synthetic: every strategy on every node, strategies interleaved within each round.
  std::vector<StrategyResult> results;
  if (options.synthetic) {
    auto list = strategies(size, threads);
    for (const auto& node : info->nodes)
      for (const auto& strategy : list) results.push_back({strategy.name, node.id, strategy.notHere, {}});
    for (unsigned round = 0; round < rounds; ++round) {
      std::size_t index = 0;
      for (const auto& node : info->nodes) {
        for (const auto& strategy : list) {
          auto& result = results[index++];
          if (!result.skipped.empty() || interrupted) continue;
          say(fmt::format("round {}/{}, node {}: {} ({})", round + 1, rounds, node.id, strategy.name, formatBytes(size)));
          if (auto why = prepare(counts, strategy.oneGbPages, strategy.twoMbPages); !why.empty()) {
            result.skipped = why;
            continue;
          }
          try {
            result.rounds.push_back(measure(strategy, size, node.id, threads, work));
          } catch (const Error& error) {
            result.skipped = error.what();
          }
        }
      }
    }
    counts.restore();
  }

  // The real workload.
  std::vector<SourceResult> workload;
  const bool light = options.quick || profile->datasetSize == 0;
  const std::string runner = findNextToSelf("xmem-randomx");
  if (options.randomx && profile->family == "randomx") {
    workload = runSources(sources(light, threads), runner, light, threads, randomxRounds, hashSeconds, counts, say);
    counts.restore();
  }

  counts.restore();
  if (interrupted) return 130;

  // Results.
  nlohmann::json synthetic = nlohmann::json::array();
  std::map<std::uint32_t, Figures> baseline;
  for (const auto& result : results)
    if (result.name == "4 KiB" && result.skipped.empty()) baseline[result.node] = result.median();
  for (const auto& result : results) {
    nlohmann::json entry = {{"strategy", result.name}, {"node", result.node}};
    if (!result.skipped.empty()) entry["skipped"] = result.skipped;
    else {
      const auto m = result.median();
      entry.update({{"alloc_touch_gbs", m.touchGBs}, {"alloc_prefault_touch_gbs", m.prefaultTouchGBs},
                    {"retouch_gbs", m.retouchGBs},
                    {"alloc_prefault_gbs", m.prefaultGBs}, {"memset_faulted_gbs", m.memsetGBs}, {"dependent_read_ns", m.latencyNs}, {"independent_reads_m", m.readsM},
                    {"randomx_shaped_kit", m.rxKit}, {"randomx_shaped_prefetch_kit", m.rxPrefetchKit}, {"got", m.got}});
    }
    synthetic.push_back(entry);
  }
  report["synthetic"] = synthetic;
  nlohmann::json real = nlohmann::json::array();
  const SourceResult* system = nullptr;
  for (const auto& source : workload)
    if (source.name.starts_with("system") && source.measured()) system = &source;
  auto ratioToSystem = [&](const SourceResult& source) {
    return system != nullptr ? pairedRatio(source.rates, system->rates).median : 0.0;
  };
  for (const auto& source : workload) {
    nlohmann::json entry = {{"source", source.name}};
    if (!source.measured()) {
      entry["skipped"] = source.skipped;
    } else {
      const auto rate = source.rate();
      entry["figures"] = source.ready;
      entry["figures"].update({{"hashes_per_second", rate.median}, {"hashes_per_second_rounds", source.rates},
                               {"hashes_per_second_low", rate.low}, {"hashes_per_second_high", rate.high},
                               {"confidence", rate.confidence}, {"ratio_to_system", ratioToSystem(source)}});
      entry["figures"].erase("ready");
      entry["figures"].erase("hashes");
      entry["figures"].erase("hash_seconds");
    }
    real.push_back(entry);
  }
  report["randomx"] = real;
  const auto targets = judgeTargets(results, workload, *info);
  // One round of short loops cannot tell a shortfall from noise: a quick run shows the ratios only.
  auto verdictOf = [&](const Target& target) { return options.quick ? std::string("not judged") : verdict(target.ratio, target.goal); };
  report["targets"] = nlohmann::json::array();
  for (const auto& target : targets)
    report["targets"].push_back({{"target", target.what}, {"ratio", target.ratio.median}, {"ratio_low", target.ratio.low},
                                 {"ratio_high", target.ratio.high}, {"confidence", target.ratio.confidence},
                                 {"goal", target.goal}, {"verdict", verdictOf(target)},
                                 {"figures", target.figures}});
  if (options.json) {
    fmt::print(out, "{}\n", report.dump(2));
  } else {
    fmt::print(out, "xmem bench: {} ({}), buffer {}, {} thread(s), {} round(s){}\n", profile->name, profile->description,
               formatBytes(size), threads, rounds, options.quick ? ", quick" : "");
    for (const auto& node : info->nodes) {
      if (!options.synthetic) break;
      const auto& base = baseline[node.id];
      fmt::print(out, "\nNode {}: medians, and ratios to 4 KiB pages (higher is better; +prefetch: to the same pages "
                      "without the prefetch)\n", node.id);
      fmt::print(out, "  {:<11} {:>16} {:>16} {:>14} {:>16} {:>16} {:>16}\n", "pages", "alloc+touch GB/s",
                 "+prefault GB/s", "latency ns", "reads M/s", "RandomX-like k/s", "+prefetch k/s");
      for (const auto& result : results) {
        if (result.node != node.id) continue;
        if (!result.skipped.empty()) {
          fmt::print(out, "  {:<11} skipped: {}\n", result.name, result.skipped);
          continue;
        }
        const auto m = result.median();
        auto cell = [](double value, const std::string& r) { return fmt::format("{:.2f} {:>6}", value, r); };
        fmt::print(out, "  {:<11} {:>16} {:>16} {:>14} {:>16} {:>16} {:>16}\n", result.name,
                   cell(m.touchGBs, ratio(m.touchGBs, base.touchGBs)), cell(m.prefaultTouchGBs, ratio(m.prefaultTouchGBs, base.touchGBs)),
                   cell(m.latencyNs, ratio(m.latencyNs, base.latencyNs, true)), cell(m.readsM, ratio(m.readsM, base.readsM)),
                   cell(m.rxKit, ratio(m.rxKit, base.rxKit)), cell(m.rxPrefetchKit, ratio(m.rxPrefetchKit, m.rxKit)));
      }
    }
    if (!workload.empty()) {
      double confidence = 0;
      for (const auto& source : workload)
        if (source.measured()) confidence = source.rate().confidence;
      fmt::print(out, "\nRandomX with librandomx ({} mode, {} thread(s)): every source holds its memory at once and hashes "
                      "{} s in turn, {} round(s); medians, the range that holds the median with {:.0f}% confidence, and "
                      "ratios to the system allocator in the same rounds\n",
                 light ? "light" : "fast", threads, hashSeconds, randomxRounds, confidence * 100);
      fmt::print(out, "  {:<31} {:>9} {:>13} {:>7} {:>9} {:>10} {:>10}\n", "memory from", "H/s", "range", "ratio", "init s",
                 "huge MiB", "1 GiB MiB");
      for (const auto& source : workload) {
        if (!source.measured()) {
          fmt::print(out, "  {:<31} skipped: {}\n", source.name, source.skipped);
          continue;
        }
        const auto& f = source.ready;
        const auto rate = source.rate();
        fmt::print(out, "  {:<31} {:>9.1f} {:>13} {:>6.2f}x {:>9.2f} {:>10} {:>10}\n", source.name, rate.median,
                   fmt::format("{:.0f}-{:.0f}", rate.low, rate.high), ratioToSystem(source), f.value("init_seconds", 0.0),
                   f.value("huge_bytes", std::size_t{0}) / MiB, f.value("gigabyte_page_bytes", std::size_t{0}) / MiB);
      }
    }
  }
  if (!options.json && !targets.empty()) {
    fmt::print(out, "\nTargets: median ratios per round, the range that holds them as above (level: below the goal, but "
                    "not by more than the measurement can show){}\n",
               options.quick ? ". A quick run is too short to judge them: run the full bench for verdicts" : "");
    for (const auto& target : targets) {
      const auto said = verdictOf(target);
      fmt::print(out, "  {:<7} {:.2f}x (goal {:.2f}x; range {:.2f}-{:.2f}x; {}): {}\n", said == "not met" ? "NOT MET" : said,
                 target.ratio.median, target.goal, target.ratio.low, target.ratio.high, target.figures, target.what);
    }
  }
  if (!options.svgFile.empty()) {
    std::vector<std::pair<std::string, double>> bars;
    for (const auto& source : workload)
      if (source.measured() && system != nullptr) bars.emplace_back(source.name, ratioToSystem(source));
    const auto& base = baseline[info->nodes.front().id];
    for (const auto& result : results)
      if (result.skipped.empty() && result.node == info->nodes.front().id && base.rxKit > 0)
        bars.emplace_back("RandomX-like loop, " + result.name, result.median().rxKit / base.rxKit);
    writeSvg(options.svgFile, bars, fmt::format("xmem bench {}: ratios to 4 KiB pages / the system allocator", profile->name));
    fmt::print(err, "... plot written to {}\n", options.svgFile);
  }
  return 0;
}

void addBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto* command = app.add_subcommand(
      "bench", "Measure what huge pages and NUMA placement buy here: each page strategy on a dataset-sized buffer "
               "(first touch, latency, throughput, a RandomX-shaped loop), then librandomx's hashrate with its memory "
               "from the system allocator, librandomx's own large pages, xmem, glibc's tunables and peer allocators. "
               "As root it reserves the pages each strategy needs and puts the counts back afterwards.");
  command->add_option("-p,--profile", options->profile, "Algorithm profile whose dataset size is measured")->capture_default_str();
  command->add_flag("--quick", options->quick, "Finish in about a minute: fewer reads, one round, RandomX in light mode");
  auto* buffer = command->add_option("--buffer", "Size of the synthetic buffer, e.g. 512M (default: the profile's dataset)");
  command->add_option("-t,--threads", options->threads, "Threads (default: one per CPU)")->check(CLI::Range(1U, 4096U));
  command->add_option("--rounds", options->rounds, "Rounds of the synthetic part (default: 1 quick, 5 full)")->check(CLI::Range(1U, 100U));
  command->add_option("--randomx-rounds", options->randomxRounds,
                      "Rounds in which every librandomx source hashes in turn (default: 3 quick, 12 full)")
      ->check(CLI::Range(1U, 100U));
  command->add_option("--hash-seconds", options->hashSeconds,
                      "Seconds each source hashes per round (default: 0.6 quick, 3 full)")
      ->check(CLI::Range(0.5, 3600.0));
  command->add_flag("!--no-synthetic", options->synthetic, "Skip the synthetic part");
  command->add_flag("!--no-randomx", options->randomx, "Skip the librandomx part");
  command->add_option("--svg", options->svgFile, "Write a plot of the ratios to this SVG file");
  command->add_flag("--json", options->json, "Print JSON for scripts instead of tables");
  command->callback([options, buffer] {
    if (buffer->count() != 0) {
      const auto text = buffer->as<std::string>();
      const auto bytes = parseSize(text);
      if (!bytes || *bytes < 64 * MiB) {
        std::cerr << "xmem bench: --buffer '" << text << "': expected a size of at least 64M, such as 512M or 2G\n";
        std::exit(2);
      }
      options->buffer = *bytes;
    }
    std::exit(runBench(*options, std::cout, std::cerr));
  });
}

}  // namespace xmem::cli
