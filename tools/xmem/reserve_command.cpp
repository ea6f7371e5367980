#include "reserve_command.h"

#include "command_line.h"
#include "json_output.h"
#include "remedies.h"
#include "workload_options.h"

#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/planner.h>
#include <xmem/system_info.h>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <map>
#include <ostream>
#include <thread>

namespace xmem::cli {
namespace {
// What Windows offers in place of a reservation.
constexpr const char* kNoPoolToReserve =
    "Windows keeps no pool of large pages, so there is nothing to reserve or release. Large pages come from free "
    "memory when a program allocates them: what they need is the \"Lock pages in memory\" right (`xmem info` says "
    "its state and how to get it) and memory that is not yet fragmented (allocate early after boot; a reboot "
    "defragments).";
}  // namespace



namespace {

// What the planner says is missing, node by node, largest pages first.
int reserveForProfile(const ReserveCommandOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.workload.profile, "reserve", err);
  if (profile == nullptr) return 2;
  const auto wanted = planOptions(options.workload.config);
  auto plan = planMemory(*profile, wanted, *Topology::get(), *SystemInfo::refresh());
  int code = 0;
  bool any = false;
  for (const auto& node : plan.nodes) {
    for (const auto& need : node.pages) {
      const std::size_t pageSize = need.pageSize;
      const std::uint64_t missing = need.missing;
      if (missing == 0) continue;
      any = true;
      ReservationRequest request;
      request.pageSize = pageSize;
      request.node = node.node;
      request.count = missing;
      request.compact = !options.noCompact;
      request.dryRun = options.dryRun;
      auto reservation = reserveHugePages(request, [&](std::string_view step) { fmt::print(err, "... {}\n", step); });
      if (reservation.dryRun) {
        for (const auto& command : stepCommands(reservation)) fmt::print(out, "Would run: {}\n", command);
        continue;
      }
      fmt::print(out, "node {}: {} -> {} pages of {} ({} asked)\n", node.node, reservation.before, reservation.after,
                 formatBytes(pageSize), reservation.target);
      if (!reservation.complete()) {
        fmt::print(out, "Partial: {}\n", adviceText(reservation, pageSize));
        code = 3;
      }
    }
  }
  if (!any) fmt::print(out, "Nothing missing: {} with {} thread(s) has every page it needs.\n", profile->name, wanted.threads);
  return code;
}

}  // namespace

int runReserve(const ReserveCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (SystemInfo::get()->platform == "windows") {
    fmt::print(err, "xmem reserve: {}\n", kNoPoolToReserve);
    return 2;
  }
  auto pageSize = parseSize(options.pageSize);
  if (!pageSize) {
    fmt::print(err, "xmem reserve: page size '{}' is not a size: expected e.g. 2M or 1G\n", options.pageSize);
    return 2;
  }
  if (options.forProfile) return reserveForProfile(options, out, err);
  const bool changeCounts = options.count != 0 || options.total.has_value();
  if (!changeCounts && !options.persist) {
    fmt::print(err, "xmem reserve: nothing to do: give --count (pages to add), --total (count to reach) or --persist\n");
    return 2;
  }
  nlohmann::json report = nlohmann::json::object();
  if (changeCounts) {
    ReservationRequest request;
    request.pageSize = *pageSize;
    request.node = options.node;
    request.count = options.count;
    request.total = options.total;
    request.compact = !options.noCompact;
    request.dryRun = options.dryRun;
    auto reservation = reserveHugePages(request, [&](std::string_view step) {
      if (!options.json) fmt::print(err, "... {}\n", step);
    });
    if (options.json) {
      report["reservation"] = {{"path", reservation.path},     {"before", reservation.before},
                               {"target", reservation.target}, {"after", reservation.after},
                               {"complete", reservation.complete()}, {"compacted", reservation.compacted},
                               {"dry_run", reservation.dryRun}, {"commands", stepCommands(reservation)},
                               {"advice", adviceText(reservation, *pageSize)}};
    } else if (reservation.dryRun) {
      fmt::print(out, "Would run (as root):\n");
      for (const auto& command : stepCommands(reservation)) fmt::print(out, "  {}\n", command);
    } else {
      fmt::print(out, "{}: {} -> {} pages of {} ({} asked){}\n", reservation.path, reservation.before, reservation.after,
                 formatBytes(*pageSize), reservation.target, reservation.compacted ? ", after compacting memory" : "");
      if (!reservation.complete()) fmt::print(out, "Partial: {}\n", adviceText(reservation, *pageSize));
      fmt::print(out, "`xmem release` puts the count back to {}.\n", reservation.before);
    }
    if (!reservation.complete() && !reservation.dryRun && !options.json) {
      // A partial reservation is a result, not a failure of the command; the exit code says so.
      if (!options.persist) return 3;
    }
  }
  if (options.persist) {
    auto configuration = persistentConfiguration();
    if (!options.dryRun) writePersistentConfiguration(configuration);
    if (options.json) {
      report["persist"] = {{"sysctl_path", configuration.sysctlPath},
                           {"sysctl_content", configuration.sysctlContent},
                           {"kernel_command_line", configuration.kernelCommandLine},
                           {"written", !options.dryRun}};
    } else {
      fmt::print(out, "{} {}:\n{}", options.dryRun ? "Would write" : "Wrote", configuration.sysctlPath,
                 configuration.sysctlContent);
      if (!configuration.kernelCommandLine.empty())
        fmt::print(out, "For 1 GiB pages and per-node counts at boot, add to the kernel command line (not done "
                        "for you):\n  {}\n", configuration.kernelCommandLine);
    }
  }
  if (options.json) out << jsonText(report) << '\n';
  return 0;
}

int runRelease(bool dryRun, bool json, std::ostream& out, std::ostream& err) {
  if (SystemInfo::get()->platform == "windows") {
    fmt::print(err, "xmem release: {}\n", kNoPoolToReserve);
    return 2;
  }
  auto restored = releaseHugePages(dryRun);
  if (json) {
    nlohmann::json counts = nlohmann::json::array();
    for (const auto& count : restored)
      counts.push_back({{"path", count.path}, {"original", count.original}, {"changed_to", count.changedTo}, {"now", count.now},
                        {"error", count.error}});
    out << jsonText(nlohmann::json{{"restored", counts}, {"dry_run", dryRun}}) << '\n';
    return 0;
  }
  if (restored.empty()) {
    fmt::print(out, "Nothing to release: xmem has changed no huge page count (recorded in {}).\n", reservationStatePath());
    return 0;
  }
  int code = 0;
  for (const auto& count : restored) {
    if (dryRun) {
      fmt::print(out, "Would run: echo {} > {}   (now {})\n", count.original, count.path, count.changedTo);
      continue;
    }
    fmt::print(out, "{}: {} -> {}\n", count.path, count.changedTo, count.now);
    if (!count.error.empty()) {
      fmt::print(err, "  {}; it stays recorded: run `xmem release` again\n", count.error);
      code = 3;
    } else if (count.now > count.original) {
      fmt::print(err, "  {} pages are still in use; run `xmem release` again once they are freed\n", count.now - count.original);
      code = 3;
    }
  }
  return code;
}

void sayAbandonedReservations(std::ostream& err) noexcept {
  try {
    const auto abandoned = abandonedReservations();
    if (abandoned.empty()) return;
    std::map<std::int64_t, std::string> byOwner;
    for (const auto& count : abandoned) {
      auto& pages = byOwner[count.owner];
      pages += fmt::format("{}{} pages{} are {} (were {})", pages.empty() ? "" : "; ", formatBytes(count.pageSize),
                           count.node ? fmt::format(" on node {}", *count.node) : std::string(), count.now, count.original);
    }
    for (const auto& [owner, pages] : byOwner)
      fmt::print(err, "xmem: process {} died before putting back the huge pages it reserved: {}. `xmem release` gives them back.\n",
                 owner, pages);
  } catch (...) {
  }
}

void addReserveCommands(CLI::App& app) {
  auto options = std::make_shared<ReserveCommandOptions>();
  auto* reserve = app.add_subcommand(
      "reserve", "Reserve explicit huge pages (as root), on one NUMA node or system-wide. xmem remembers the counts it "
                 "changes; `xmem release` puts them back.");
  reserve->add_option("--page-size,-s", options->pageSize, "Page size, one the kernel offers (x86-64: 2M or 1G; arm64 also 64K, 32M or 512M)")->capture_default_str();
  reserve->add_option("--node,-n", options->node, "NUMA node (default: system-wide)");
  auto* count = reserve->add_option("--count,-c", options->count, "Pages to add");
  auto* total = reserve->add_option("--total", options->total, "Page count to reach");
  count->excludes(total);
  // --profile: reserve what that workload's plan is missing on each node (see xmem plan).
  addWorkloadOptions(*reserve, options->workload);
  auto* profile = reserve->get_option("--profile");
  for (auto* workloadOnly : options->workload.flags.options())
    if (workloadOnly != profile) workloadOnly->needs(profile);
  profile->excludes(count)->excludes(total);
  reserve->add_flag("--no-compact", options->noCompact, "Do not compact memory when the kernel finds too few pages");
  reserve->add_flag("--dry-run", options->dryRun, "Print what would run; change nothing");
  reserve->add_flag("--persist", options->persist,
                    "Also write a sysctl.d file so pages below 1 GiB come back at boot, and print the kernel command line "
                    "that 1 GiB and per-node pages need");
  reserve->add_flag("--json", options->json, "Print JSON for scripts instead of text");
  reserve->callback([options, reserve] {
    options->forProfile = reserve->count("--profile") != 0;
    if (options->forProfile) resolveWorkloadOptions(options->workload);
    finishCommand("reserve", [&] { return runReserve(*options, std::cout, std::cerr); });
  });

  auto dryRun = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  auto* release = app.add_subcommand("release", "Put back every huge page count that `xmem reserve` changed.");
  release->add_flag("--dry-run", *dryRun, "Print what would run; change nothing");
  release->add_flag("--json", *json, "Print JSON for scripts instead of text");
  release->callback([dryRun, json] { finishCommand("release", [&] { return runRelease(*dryRun, *json, std::cout, std::cerr); }); });
}

}  // namespace xmem::cli
