#include "plan_command.h"

#include "remedies.h"

#include "json_output.h"
#include "text_output.h"

#include <xmem/error.h>
#include <xmem/planner.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>
#include <thread>

namespace xmem::cli {
namespace {

std::string pages(std::uint64_t count, std::size_t pageSize) {
  return count == 0 ? "" : std::to_string(count) + " x " + formatBytes(pageSize);
}

void printText(const MemoryPlan& plan, std::ostream& out) {
  const auto& profile = *plan.profile;
  // Light mode changes what a RandomX profile needs, so the header says which mode this is.
  const bool light = plan.options.randomxLight && profile.family == "randomx";
  fmt::print(out, "Plan for {} ({}), {} worker thread(s) on {} node(s)\n", profile.name,
             light ? "RandomX light mode: the cache only, no dataset" : profile.description, plan.options.threads,
             plan.nodes.size());
  for (const auto& node : plan.nodes) {
    fmt::print(out, "\nnode {}: {} thread(s)", node.node, node.threads);
    if (!node.cpus.empty()) fmt::print(out, " on cpus {}", compactList(node.cpus));
    fmt::print(out, "\n");
    if (!node.fallback.empty()) {
      std::string order;
      for (const auto& other : node.fallback)
        order += fmt::format("{}node {} (distance {})", order.empty() ? "" : ", then ", other.node, other.distance);
      fmt::print(out, "  {:<12} {}\n", "when full", order);
    }
    auto row = [&](const char* what, std::size_t bytes, const std::string& how) {
      if (bytes != 0) fmt::print(out, "  {:<12} {:>10}   {}\n", what, formatBytes(bytes), how);
    };
    const std::size_t onGigabytePages = node.need.oneGbPages * kOneGbPageSize;
    const bool huge = plan.options.hugePages;
    row("dataset", node.dataset,
        !huge ? "" : onGigabytePages != 0 ? pages(node.need.oneGbPages, kOneGbPageSize) + " + " +
                                               pages((node.dataset - onGigabytePages + kHugePageSize - 1) / kHugePageSize, kHugePageSize)
                                          : pages((node.dataset + kHugePageSize - 1) / kHugePageSize, kHugePageSize));
    row("cache", node.cache, huge ? pages((node.cache + kHugePageSize - 1) / kHugePageSize, kHugePageSize) : "");
    row("scratchpads", node.scratchpads,
        fmt::format("{} x {} from the pool", node.threads, formatBytes(profile.scratchpadSize)));
    row("JIT code", node.jit,
        fmt::format("{} x {}, executable, on {} pages", node.threads, formatBytes(profile.jitSize),
                    jitOnHugePages(plan.options) ? "2 MiB" : "4 KiB"));
    fmt::print(out, "  {:<12} {:>10}", "total", formatBytes(node.total()));
    if (node.shared() != 0) fmt::print(out, "   (dataset + cache {})", formatBytes(node.shared()));
    fmt::print(out, "\n");
    if (huge) {
      if (node.need.oneGbPages != 0)
        fmt::print(out, "  1 GiB pages  need {}, free {}, missing {}\n", node.need.oneGbPages, node.free1G.free,
                   node.missing.oneGbPages);
      fmt::print(out, "  2 MiB pages  need {}, free {}, missing {}\n", node.need.twoMbPages, node.free2M.free,
                 node.missing.twoMbPages);
    }
  }
  fmt::print(out, "\nIn all: {} ({} in datasets and caches)\n", formatBytes(plan.total()), formatBytes(plan.shared()));
  if (!plan.missing.empty()) {
    fmt::print(out, "\nTo reserve what is missing (as root; 1 GiB pages first):\n");
    for (const auto& missing : plan.missing) fmt::print(out, "  {}\n", reserveCommand(missing));
  } else if (plan.options.hugePages) {
    fmt::print(out, "\nEvery page this plan needs is free now.\n");
  }
  for (const auto& note : plan.notes) fmt::print(out, "Note: {}\n", note);
}

}  // namespace

int runPlan(const PlanCommandOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.workload.profile, "plan", err);
  if (profile == nullptr) return 2;
  auto plan = planMemory(*profile, planOptions(options.workload.config), *Topology::get(), *SystemInfo::refresh());
  if (options.json)
    out << toJson(plan).dump(2) << '\n';
  else
    printText(plan, out);
  return 0;
}

void addPlanCommand(CLI::App& app) {
  auto options = std::make_shared<PlanCommandOptions>();
  auto* command = app.add_subcommand(
      "plan", "Show what an algorithm's memory needs on this machine, node by node: dataset, cache, scratchpads and "
              "JIT code, the huge pages that takes, what is free now, and the commands that reserve what is missing.");
  addWorkloadOptions(*command, options->workload);
  command->add_flag("--json", options->json, "Print JSON for scripts instead of text");
  command->callback([options] {
    resolveWorkloadOptions(options->workload);
    std::exit(runPlan(*options, std::cout, std::cerr));
  });
}

}  // namespace xmem::cli
