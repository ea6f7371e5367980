#include "stats_command.h"

#include "command_line.h"
#include "text_output.h"

#include <xmem/error.h>
#include <xmem/exposition.h>
#include <xmem/monitor.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <ostream>
#include <sstream>

namespace xmem::cli {
namespace {

std::string partsText(const std::vector<BackedBytes>& parts) {
  if (parts.empty()) return "nothing in memory";
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += " + ";
    const std::string kind = part.backing == Backing::HugeTlb       ? formatBytes(part.pageSize) + " pages"
                             : part.backing == Backing::Transparent ? "THP"
                                                                    : formatBytes(part.pageSize) + " pages";
    out += formatBytes(part.bytes) + " " + kind;
  }
  return out;
}

std::string nodesText(const std::map<std::uint32_t, std::size_t>& bytesByNode) {
  std::string out;
  for (const auto& [node, bytes] : bytesByNode) out += fmt::format("{}node {} {}", out.empty() ? "" : ", ", node, formatBytes(bytes));
  return out.empty() ? "-" : out;
}

void printPagePools(const Snapshot& snapshot, std::ostream& out) {
  fmt::print(out, "Huge pages        {:>10} {:>8} {:>8} {:>8}  by xmem\n", "configured", "free", "in use", "surplus");
  for (const auto& pool : snapshot.pagePools) {
    const auto& counts = pool.counts;
    const std::string where = pool.node ? fmt::format("node {}", *pool.node) : "system";
    std::string byXmem = "-";
    if (pool.restoredOnRelease)
      byXmem = fmt::format("+{} (was {}; `xmem release` puts it back)", pool.addedByXmem, pool.countBeforeXmem);
    fmt::print(out, "  {:<7} {:<8} {:>10} {:>8} {:>8} {:>8}  {}\n", formatBytes(pool.pageSize), where, counts.total, counts.free,
               counts.total - std::min(counts.total, counts.free), counts.surplus, byXmem);
  }
}

void printKernel(const Snapshot& snapshot, std::ostream& out) {
  const auto& kernel = snapshot.kernel;
  fmt::print(out, "\nTHP               mode {}, defrag {}\n", toString(kernel.thp.mode), kernel.thp.defrag.empty() ? "-" : kernel.thp.defrag);
  for (const char* name : {"thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "compact_stall", "compact_fail"}) {
    auto found = kernel.counters.find(name);
    if (found != kernel.counters.end()) fmt::print(out, "  {:<22} {}\n", name, found->second);
  }
  fmt::print(out, "Free memory by 2 MiB block (buddyinfo)\n");
  for (const auto& zone : kernel.fragmentation)
    fmt::print(out, "  node {} {:<8} {:>8} x 2 MiB obtainable now, unusable free index {:.2f}\n", zone.node, zone.zone,
               zone.hugePageBlocks, zone.unusableFreeIndex);
  fmt::print(out, "1 GiB pages       availability {}\n", kernel.oneGbAvailability);
}

void printProcess(const ProcessStats& process, std::ostream& out) {
  fmt::print(out, "\nProcess {} ({})", process.pid, process.command.empty() ? "?" : process.command);
  if (!process.error.empty()) {
    fmt::print(out, ": {}\n", process.error);
    return;
  }
  fmt::print(out, ": {} resident, {} locked, {} on hugetlb pages; {}{}\n", formatBytes(process.residentBytes),
             formatBytes(process.lockedBytes), formatBytes(process.hugeTlbBytes), toString(process.health),
             process.reason.empty() ? "" : " - " + process.reason);
  for (const auto& mapping : process.mappings)
    fmt::print(out, "  {:#014x} {:>10}  {:<40} {:<22} {}{}\n", mapping.start, formatBytes(mapping.sizeBytes), partsText(mapping.parts),
               nodesText(mapping.bytesByNode), mapping.name.empty() ? "[anon]" : mapping.name,
               mapping.reason.empty() ? "" : "\n      " + std::string(toString(mapping.health)) + ": " + mapping.reason);
  if (process.underPreload) {
    fmt::print(out, "  under xmem's preload library: {} large allocations\n", process.preload.size());
    for (const auto& record : process.preload)
      fmt::print(out, "    {:#014x} asked {:>10}, mapped {:>10}, {} on hugetlb pages when served{}{}\n", record.address,
                 formatBytes(record.requestedBytes), formatBytes(record.mappedBytes), formatBytes(record.hugeTlbBytes),
                 record.nodeAsked ? fmt::format(", node {} asked", *record.nodeAsked) : "", record.locked ? ", locked" : "");
  }
}

void printBandwidth(const Snapshot& snapshot, std::ostream& out) {
  if (!snapshot.bandwidth) return;
  fmt::print(out, "\nBandwidth         {:>8} {:>10} {:>8} {:>12} {:>12}\n", "cpu node", "memory", "kernel", "best GB/s", "median GB/s");
  for (const auto& figure : snapshot.bandwidth->figures)
    fmt::print(out, "                  {:>8} {:>10} {:>8} {:>12.2f} {:>12.2f}\n", figure.cpuNode, figure.memoryNode, figure.kernel,
               figure.bestBytesPerSecond / 1e9, figure.medianBytesPerSecond / 1e9);
}

// The textfile collector reads whatever is in the file when it scrapes: write a sibling, then rename.
void writeAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(ErrorCode::InvalidArgument, "--output " + path + ": cannot write " + temporary);
    file << text;
    if (!file.flush()) throw Error(ErrorCode::SystemError, "--output " + path + ": writing " + temporary + " failed");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error(ErrorCode::SystemError, "--output " + path + ": cannot rename " + temporary + " to it");
  }
}

}  // namespace

CLI::Validator processIdCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::int64_t pid = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), pid);
        if (error != std::errc() || end != value.data() + value.size() || pid <= 0)
          return "\"" + value + "\": expected a process id (a number above 0)";
        return {};
      },
      "PID");
}

CLI::Validator hashrateCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double rate = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), rate);
        if (error != std::errc() || end != value.data() + value.size() || !(rate > 0))
          return "\"" + value + "\": expected a hashrate in H/s above 0, such as 770";
        return {};
      },
      "H/s");
}

Snapshot takeStats(const StatsOptions& options) {
  MonitorOptions monitorOptions;
  monitorOptions.minMappingBytes = options.minMappingBytes;
  monitorOptions.includeSelf = false;  // the command's own memory is of no interest
  Monitor monitor(monitorOptions);
  for (auto pid : options.pids) monitor.watch(pid);
  if (options.bandwidth) monitor.setBandwidth(measureBandwidth());
  if (options.hashrate) monitor.setRandomxHashrate(*options.hashrate);
  return monitor.snapshot();
}

void printStats(const Snapshot& snapshot, std::ostream& out) {
  fmt::print(out, "xmem {} - memory on {} now\n\n", snapshot.xmemVersion, snapshot.hostname.empty() ? "this machine" : snapshot.hostname);
  printPagePools(snapshot, out);
  printKernel(snapshot, out);
  for (const auto& process : snapshot.processes) printProcess(process, out);
  printBandwidth(snapshot, out);
  if (snapshot.randomx)
    fmt::print(out, "\nRandomX at {:.0f} H/s reads {:.2f} GB/s of its dataset (1 MiB per hash)\n", snapshot.randomx->hashesPerSecond,
               snapshot.randomx->bytesPerSecond / 1e9);
}

int runStats(const StatsOptions& options, std::ostream& out, std::ostream& err) {
  const Snapshot snapshot = takeStats(options);
  std::string text;
  if (options.format == StatsFormat::Json) {
    text = toJson(snapshot, SnapshotPart::All, 2) + "\n";
  } else if (options.format == StatsFormat::Prometheus) {
    text = toPrometheus(snapshot);
  } else {
    std::ostringstream report;
    printStats(snapshot, report);
    text = report.str();
  }
  if (options.output.empty()) out << text;
  else writeAtomically(options.output, text);
  int code = 0;
  for (const auto& process : snapshot.processes)
    if (!process.error.empty()) {
      fmt::print(err, "xmem stats: {}\n", process.error);
      code = 1;
    }
  return code;
}

void addStatsCommand(CLI::App& app) {
  auto options = std::make_shared<StatsOptions>();
  auto minMapping = std::make_shared<std::string>();
  auto* command = app.add_subcommand(
      "stats", "Show what memory really is now: huge pages per node and page size (and what xmem reserved), the "
               "kernel's fragmentation and THP counters, and for each --pid its large mappings by page size and node, "
               "with the reason for anything not on huge pages. --prometheus --output FILE writes a node_exporter "
               "textfile-collector file.");
  command->add_option("--pid", options->pids, "A running process to read from outside (repeat for more)")
      ->check(processIdCheck());
  auto* json = command->add_flag_callback("--json", [options] { options->format = StatsFormat::Json; }, "Print JSON (the /api/v1 schema)");
  command->add_flag_callback("--prometheus", [options] { options->format = StatsFormat::Prometheus; },
                             "Print Prometheus text format 0.0.4")
      ->excludes(json);
  command->add_option("--output", options->output, "Write to FILE (atomically: a sibling file, then rename) instead of printing");
  command->add_option("--min-mapping", *minMapping, "List mappings of at least this size (default 2M)");
  command->add_flag("--bandwidth", options->bandwidth,
                    "Measure memory bandwidth first (read/copy/triad, every CPU node x memory node; takes seconds and the machine's bandwidth)");
  command->add_option("--hashrate", options->hashrate, "A RandomX hashrate in H/s: also show the dataset bandwidth it implies")
      ->check(hashrateCheck());
  command->callback([options, minMapping] {
    if (!minMapping->empty()) {
      auto size = parseSize(*minMapping);
      if (!size) throw CLI::ValidationError("--min-mapping", "\"" + *minMapping + "\": expected a size such as 2M, 64K or 1G");
      options->minMappingBytes = *size;
    }
    finishCommand("stats", [&] { return runStats(*options, std::cout, std::cerr); });
  });
}

}  // namespace xmem::cli
