#include "alloc_command.h"

#include "command_line.h"
#include "json_output.h"

#include <xmem/profile_allocation.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>
#include <unistd.h>
#include <thread>

namespace xmem::cli {

ProfileAllocationOptions allocationOptions(const MemoryConfig& config) {
  ProfileAllocationOptions allocation;
  allocation.plan = planOptions(config);
  // prefault: true is every core (0 threads in the config), a number that many threads.
  allocation.prefaultThreads = !config.prefault ? 0 : config.prefaultThreads != 0 ? config.prefaultThreads : VirtualMemory::kAllCores;
  allocation.lock = config.lock ? LockPolicy::BestEffort : LockPolicy::None;
  allocation.transparentHugePages = config.transparentHugePages;
  return allocation;
}

namespace {

// {"huge_pages": [{"page_size", "bytes"}], "thp", "base"}: every size the layout got.
nlohmann::json bytesOn(const NodeLayout::Breakdown& parts) {
  nlohmann::json huge = nlohmann::json::array();
  for (const auto& [pageSize, bytes] : parts.hugeTlb) huge.push_back({{"page_size", pageSize}, {"bytes", bytes}});
  return {{"huge_pages", huge}, {"thp", parts.thp}, {"base", parts.base}};
}

}  // namespace

int runAlloc(const AllocCommandOptions& options, std::ostream& out, std::ostream& err) {
  const MemoryProfile* profile = findProfileOrSay(options.workload.profile, "alloc", err);
  if (profile == nullptr) return 2;
  const ProfileAllocationOptions allocation = allocationOptions(options.workload.config);
  auto layout = ProfileAllocation::allocate(*profile, allocation, *Topology::get(), [&](std::string_view step) {
    if (!options.json) fmt::print(err, "... {}\n", step);
  });
  if (options.json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& node : layout.nodes()) {
      const auto parts = node.breakdown();
      nlohmann::json entry = {{"node", node.node},
                              {"threads", node.threads},
                              {"summary", node.summary()},
                              {"bytes_on", bytesOn(parts)},
                              {"scratchpads", node.scratchpads.size()},
                              {"ms", std::chrono::duration<double, std::milli>(node.time).count()}};
      if (node.dataset) entry["dataset"] = toJson(node.dataset->report());
      if (node.cache) entry["cache"] = toJson(node.cache->report());
      if (node.pool) entry["pool"] = toJson(node.pool->stats());
      nodes.push_back(entry);
    }
    out << jsonText(nlohmann::json{{"profile", profile->name}, {"threads", allocation.plan.threads}, {"nodes", nodes}}) << '\n';
  } else {
    fmt::print(out, "{} ({}), {} thread(s):\n", profile->name, profile->description, allocation.plan.threads);
    for (const auto& node : layout.nodes()) fmt::print(out, "  {}\n", node.summary());
  }
  if (options.holdSeconds > 0) {
    if (!options.json)
      fmt::print(out, "Holding it for {} s: see /proc/{}/smaps (or xmem info) meanwhile.\n", options.holdSeconds,
                 static_cast<long>(::getpid()));
    out.flush();
    std::this_thread::sleep_for(std::chrono::duration<double>(options.holdSeconds));
  }
  if (!options.json) fmt::print(out, "Freed.\n");
  return 0;
}

void addAllocCommand(CLI::App& app) {
  auto options = std::make_shared<AllocCommandOptions>();
  auto* command = app.add_subcommand(
      "alloc", "Allocate an algorithm's memory layout (dataset and cache per node, scratchpads, JIT code) the way xmem "
               "would for a miner, print what each node got, hold it for a while, then free it.");
  addWorkloadOptions(*command, options->workload, OptionUse::Allocation);
  command->add_option("--hold", options->holdSeconds, "Seconds to keep the memory before freeing it")->check(CLI::Range(0.0, 86400.0));
  command->add_flag("--json", options->json, "Print JSON for scripts instead of text");
  command->callback([options] {
    resolveWorkloadOptions(options->workload);
    finishCommand("alloc", [&] { return runAlloc(*options, std::cout, std::cerr); });
  });
}

}  // namespace xmem::cli
