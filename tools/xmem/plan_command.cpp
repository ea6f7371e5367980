#include "plan_command.h"

#include "config_option.h"
#include "json_output.h"

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
  fmt::print(out, "Plan for {} ({}), {} worker thread(s) on {} node(s)\n", profile.name, profile.description,
             plan.options.threads, plan.nodes.size());
  for (const auto& node : plan.nodes) {
    fmt::print(out, "\nnode {}: {} thread(s)\n", node.node, node.threads);
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
    row("JIT code", node.jit, fmt::format("{} x {}, executable", node.threads, formatBytes(profile.jitSize)));
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
  if (!plan.commands.empty()) {
    fmt::print(out, "\nTo reserve what is missing (as root; 1 GiB pages first):\n");
    for (const auto& command : plan.commands) fmt::print(out, "  {}\n", command);
  } else if (plan.options.hugePages) {
    fmt::print(out, "\nEvery page this plan needs is free now.\n");
  }
  for (const auto& note : plan.notes) fmt::print(out, "Note: {}\n", note);
}

}  // namespace

int runPlan(const PlanCommandOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfile(options.profile);
  if (profile == nullptr) {
    fmt::print(err, "xmem plan: unknown profile '{}': expected one of {}\n", options.profile, profileNames());
    return 2;
  }
  PlanOptions planOptions;
  planOptions.threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  planOptions.oneGbPages = !options.noOneGbPages;
  planOptions.hugePages = !options.noHugePages;
  auto machine = SystemInfo::refresh();
  auto plan = planMemory(*profile, planOptions, Topology::fromSystem(), *machine);
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
  command->add_option("--profile,-p", options->profile, "Algorithm profile, e.g. rx/0, rx/wow, cn/0, argon2/chukwa")
      ->capture_default_str();
  command->add_option("--threads,-t", options->threads, "Worker threads (default: one per CPU)")
      ->check(CLI::Range(1U, 4096U));
  command->add_flag("--no-1gb-pages", options->noOneGbPages, "Plan 2 MiB pages only");
  command->add_flag("--no-huge-pages", options->noHugePages, "Plan without explicit huge pages");
  command->add_flag("--json", options->json, "Print JSON for scripts instead of text");
  command->callback([options, command] {
    if (auto config = givenConfig()) {
      if (command->count("--profile") == 0) options->profile = config->profile;
      if (command->count("--threads") == 0) options->threads = config->threads;
      if (command->count("--no-1gb-pages") == 0) options->noOneGbPages = !config->oneGbPages;
      if (command->count("--no-huge-pages") == 0) options->noHugePages = !config->hugePages;
    }
    std::exit(runPlan(*options, std::cout, std::cerr));
  });
}

}  // namespace xmem::cli
