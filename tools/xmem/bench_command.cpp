#include "bench_command.h"

#include "command_line.h"
#include "harness.h"
#include "json_output.h"
#include "json_report.h"
#include "plot.h"
#include "run_command.h"
#include "text_report.h"
#include "workload_options.h"

#include <xmem/system_info.h>
#include <xmem/types.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

namespace xmem::cli {
namespace {

/// A program installed beside this one (xmem-randomx), or empty.
std::string findNextToSelf(const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error && fs::exists(self.parent_path() / name, error)) return (self.parent_path() / name).string();
  return {};
}

/// The flags with their defaults filled in: a quick run is one short round of each part.
bench::Settings settingsFrom(const BenchOptions& options, const MemoryProfile& profile, const SystemInfo& info) {
  bench::Settings settings;
  settings.profile = &profile;
  settings.quick = options.quick;
  settings.threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  settings.rounds = options.rounds != 0 ? options.rounds : options.quick ? 1 : 5;
  settings.randomxRounds = options.randomxRounds != 0 ? options.randomxRounds : options.quick ? 3 : 12;
  settings.hashSeconds = options.hashSeconds > 0 ? options.hashSeconds : options.quick ? 0.6 : 3.0;
  settings.bufferSize = options.buffer != 0        ? alignUp(options.buffer, kHugePageSize)
                        : profile.datasetSize != 0 ? profile.datasetSize
                        : profile.cacheSize != 0   ? profile.cacheSize
                                                   : 256 * MiB;
  for (const auto& node : info.nodes) settings.nodes.push_back(node.id);
  settings.synthetic = options.synthetic;
  settings.randomx = options.randomx;
  settings.runner = findNextToSelf("xmem-randomx");
  settings.preloadLibrary = findPreloadLibrary();
  settings.findLibrary = bench::systemLibraryLookup();
  return settings;
}

}  // namespace

int runBench(const BenchOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.profile, "bench", err);
  if (profile == nullptr) return 2;
  const auto settings = settingsFrom(options, *profile, *SystemInfo::refresh());
  const auto results = bench::run(settings, [&](const std::string& line) { fmt::print(err, "... {}\n", line); });
  if (results.interrupted) return 130;
  if (options.json) fmt::print(out, "{}\n", jsonText(bench::jsonReport(settings, results)));
  else bench::printTables(out, settings, results);
  if (!options.svgFile.empty()) {
    const auto bars = bench::ratioBars(results.strategies, results.sources, settings.nodes.front());
    const auto title = fmt::format("xmem bench {}: ratios to 4 KiB pages / the system allocator", profile->name);
    if (bench::writeSvg(options.svgFile, bars, title)) fmt::print(err, "... plot written to {}\n", options.svgFile);
    else fmt::print(err, "xmem bench: cannot write the plot to {}\n", options.svgFile);
  }
  return 0;
}

void addBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto workload = std::make_shared<WorkloadOptions>();
  auto* command = app.add_subcommand(
      "bench", "Measure what huge pages and NUMA placement buy here: each page strategy on a dataset-sized buffer "
               "(first touch, latency, throughput, a RandomX-shaped loop), then librandomx's hashrate with its memory "
               "from the system allocator, librandomx's own large pages, xmem, glibc's tunables and peer allocators. "
               "As root it reserves the pages each strategy needs and puts the counts back afterwards.");
  // The profile whose dataset size is measured and the threads: the options table's, as in plan.
  addWorkloadOptions(*command, *workload, {"profile", "threads"});
  command->add_flag("--quick", options->quick, "Finish in about a minute: fewer reads, one round, RandomX in light mode");
  auto* buffer = command->add_option("--buffer", "Size of the synthetic buffer, e.g. 512M (default: the profile's dataset)");
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
  command->callback([options, workload, buffer] {
    resolveWorkloadOptions(*workload);
    options->profile = workload->profile;
    options->threads = workload->config.threads;
    if (buffer->count() != 0) {
      const auto text = buffer->as<std::string>();
      const auto bytes = parseSize(text);
      if (!bytes || *bytes < 64 * MiB) {
        std::cerr << "xmem bench: --buffer '" << text << "': expected a size of at least 64M, such as 512M or 2G\n";
        throw CLI::RuntimeError(2);
      }
      options->buffer = *bytes;
    }
    finishCommand("bench", [&] { return runBench(*options, std::cout, std::cerr); });
  });
}

}  // namespace xmem::cli
