#include "info_command.h"

#include "command_line.h"
#include "json_output.h"
#include "text_output.h"

#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/version.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

namespace xmem::cli {
namespace {

std::string limitText(std::uint64_t bytes) {
  return bytes == MemlockLimit::kUnlimited ? "unlimited" : formatBytes(bytes);
}

void printText(const SystemInfo& info, std::ostream& out) {
  fmt::print(out, "xmem {} - memory on this machine ({} {})\n\n", XMEM_VERSION, info.platform, info.kernel);

  fmt::print(out, "Memory        {} ({} available)\n\n", formatBytes(info.memoryTotal), formatBytes(info.memoryAvailable));
  const bool windows = info.platform == "windows";
  if (windows) {
    // No pool, no counts: only whether they can be asked for.
    fmt::print(out, "Large pages   taken from free memory when allocated (Windows keeps no pool to reserve)\n");
    for (const auto& size : info.hugePageSizes) {
      auto availability = hugePageAvailability(size.pageSize);
      fmt::print(out, "  {:<11} usable now: {}\n", formatBytes(size.pageSize),
                 availability.available ? "yes, if enough free memory is contiguous" : "no - " + availability.reason);
    }
  } else {
    fmt::print(out, "Huge pages    {:>8} {:>8} {:>9} {:>8}  usable now\n", "total", "free", "reserved", "surplus");
  }
  if (info.hugePageSizes.empty()) fmt::print(out, "  none: this kernel has no hugetlb support\n");
  for (const auto& size : info.hugePageSizes) {
    if (windows) break;
    auto availability = hugePageAvailability(size.pageSize);
    fmt::print(out, "  {:<11} {:>8} {:>8} {:>9} {:>8}  {}: {}\n", formatBytes(size.pageSize), size.counts.total,
               size.counts.free, size.counts.reserved, size.counts.surplus, availability.available ? "yes" : "no",
               availability.reason);
  }
  auto oneGb = hugePageAvailability(kOneGbPageSize);
  fmt::print(out, "1 GiB pages   CPU {}, kernel {}, usable now: {}{}\n",
             info.cpuHasOneGbPages ? "yes (pdpe1gb)" : "no", info.hugePages(kOneGbPageSize) ? "yes" : "no",
             oneGb.available ? "yes" : "no", oneGb.available ? "" : " - " + oneGb.reason);
  if (info.largePageRight.state != LargePageRight::State::NotNeeded) {
    const auto& right = info.largePageRight;
    fmt::print(out, "Lock pages    \"Lock pages in memory\" for {}: {}\n", right.account.empty() ? "this account" : right.account,
               toString(right.state));
    if (!right.guidance.empty()) fmt::print(out, "              {}\n", right.guidance);
  }
  if (info.platform == "windows") {
    // Windows words: no THP, a working set instead of RLIMIT_MEMLOCK, commit charged up front.
    fmt::print(out, "THP           Windows has none (large pages only)\n");
    fmt::print(out, "Memory lock   working set {} to {}; xmem raises it as it locks\n", limitText(info.memlock.soft),
               limitText(info.memlock.hard));
  } else if (info.thp.mode == ThpMode::Unsupported)
    fmt::print(out, "THP           not supported by this kernel\n");
  else
    fmt::print(out, "THP           mode {}, defrag {}, page {}: {}\n", toString(info.thp.mode), info.thp.defrag,
               formatBytes(info.thp.pmdSize),
               info.thp.usable() ? "usable (xmem advises its mappings)"
                                 : "off (as root: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled)");
  if (info.platform != "windows") {
    fmt::print(out, "Memory lock   RLIMIT_MEMLOCK {} (hard {}); {}\n", limitText(info.memlock.soft),
               limitText(info.memlock.hard),
               info.memlock.privileged ? "CAP_IPC_LOCK held, so the limit does not apply"
                                       : "no CAP_IPC_LOCK: locking more needs `ulimit -l` raised");
    fmt::print(out, "Kernel        faulting in reports errors (MADV_POPULATE_WRITE): {}; named mappings: {}\n",
               info.populateReportsErrors ? "yes" : "no (a missing huge page is SIGBUS)",
               info.namedMappings ? "yes" : "no (needs CONFIG_ANON_VMA_NAME)");
  }

  fmt::print(out, "\nNUMA nodes    {}\n", info.nodes.size());
  for (const auto& node : info.nodes) {
    fmt::print(out, "  node {:<3} cpus {:<10} memory {} ({} free)", node.id, compactList(node.cpus),
               formatBytes(node.memoryTotal), formatBytes(node.memoryFree));
    for (const auto& size : info.hugePageSizes) {
      auto found = size.nodes.find(node.id);
      if (found != size.nodes.end())
        fmt::print(out, ", {} pages {}/{} free", formatBytes(size.pageSize), found->second.free, found->second.total);
    }
    fmt::print(out, "\n");
  }
  // The distance matrix (hwloc, from the firmware's table): 10 is local.
  const Topology topology = *Topology::get();
  fmt::print(out, "\nDistances     {:>6}", "");
  for (const auto& to : topology.nodes()) fmt::print(out, " {:>6}", fmt::format("node {}", to.id));
  fmt::print(out, "\n");
  for (const auto& from : topology.nodes()) {
    fmt::print(out, "  node {:<6}       ", from.id);
    for (const auto& to : topology.nodes()) fmt::print(out, " {:>6}", topology.distance(from.id, to.id));
    fmt::print(out, "\n");
  }
}

}  // namespace

int runInfo(const InfoOptions& options, std::ostream& out) {
  auto info = SystemInfo::refresh();
  if (options.json)
    out << jsonText(toJson(*info)) << '\n';
  else
    printText(*info, out);
  return 0;
}

void addInfoCommand(CLI::App& app) {
  auto options = std::make_shared<InfoOptions>();
  auto* command = app.add_subcommand(
      "info", "Show what this machine offers: huge pages per size and node (usable now or not, and why), "
              "1 GiB page support, transparent huge pages, the memory lock limit and the NUMA nodes.");
  command->add_flag("--json", options->json, "Print JSON for scripts instead of text");
  command->callback([options] { finishCommand("info", [&] { return runInfo(*options, std::cout); }); });
}

}  // namespace xmem::cli
