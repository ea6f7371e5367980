#include "plan_command.h"

#include "command_line.h"
#include "json_output.h"
#include "remedies.h"
#include "text_output.h"

#include <xmem/error.h>
#include <xmem/planner.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>
#include <thread>

namespace xmem::cli {
namespace {

void printText(const MemoryPlan& plan, const SystemInfo& machine, std::ostream& out) {
  const auto& profile = *plan.profile;
  const bool poolKept = plan.hugePagePool;
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
    const bool huge = plan.options.hugePages;
    row("dataset", node.dataset, describePages(node.datasetPages));
    row("cache", node.cache, describePages(node.cachePages));
    row("scratchpads", node.scratchpads,
        fmt::format("{} x {} from the pool{}", node.threads, formatBytes(profile.scratchpadSize),
                    node.poolPages.empty() ? "" : " (" + describePages(node.poolPages) + ")"));
    row("JIT code", node.jit,
        fmt::format("{} x {}, executable, {}", node.threads, formatBytes(profile.jitSize),
                    node.jitPages.empty() ? "on " + formatBytes(machine.basePageSize) + " pages"
                                          : "on " + describePages(node.jitPages) + " pages"));
    fmt::print(out, "  {:<12} {:>10}", "total", formatBytes(node.total()));
    if (node.shared() != 0) fmt::print(out, "   (dataset + cache {})", formatBytes(node.shared()));
    fmt::print(out, "\n");
    for (const auto& need : node.pages) {
      const std::string label = formatBytes(need.pageSize) + " pages";
      if (poolKept)
        fmt::print(out, "  {:<12} need {}, free {}, missing {}\n", label, need.need, need.counts.free, need.missing);
      else
        fmt::print(out, "  {:<12} need {} (taken from free memory at allocation)\n", label, need.need);
    }
    if (huge && node.pages.empty())
      fmt::print(out, "  {:<12} {}\n", "huge pages",
                 machine.hugePageSizes.empty() ? "none: this system offers no explicit huge pages" : "none of the sizes offered fits");
  }
  fmt::print(out, "\nIn all: {} ({} in datasets and caches)\n", formatBytes(plan.total()), formatBytes(plan.shared()));
  if (!plan.missing.empty()) {
    fmt::print(out, "\nTo reserve what is missing (as root; largest pages first):\n");
    for (const auto& missing : plan.missing) fmt::print(out, "  {}\n", reserveCommand(missing));
  } else if (plan.options.hugePages && poolKept && !machine.hugePageSizes.empty()) {
    fmt::print(out, "\nEvery page this plan needs is free now.\n");
  }
  for (const auto& note : plan.notes) fmt::print(out, "Note: {}\n", note);
}

}  // namespace

int runPlan(const PlanCommandOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.workload.profile, "plan", err);
  if (profile == nullptr) return 2;
  const auto machine = SystemInfo::refresh();
  auto plan = planMemory(*profile, planOptions(options.workload.config), *Topology::get(), *machine);
  if (options.json)
    out << jsonText(toJson(plan)) << '\n';
  else
    printText(plan, *machine, out);
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
    finishCommand("plan", [&] { return runPlan(*options, std::cout, std::cerr); });
  });
}

}  // namespace xmem::cli
