#include "workload_options.h"

#include "config_option.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <ostream>
#include <thread>

namespace xmem::cli {

void addWorkloadOptions(CLI::App& command, WorkloadOptions& options) {
  command.add_option("--profile,-p", options.profile, "Algorithm profile, e.g. rx/0, rx/wow, cn/0, argon2/chukwa")
      ->capture_default_str();
  command.add_option("--threads,-t", options.threads, "Worker threads (default: one per CPU)")->check(CLI::Range(1U, 4096U));
  command.add_flag("--no-1gb-pages", options.noOneGbPages, "Do not use 1 GiB pages");
  command.add_flag("--no-huge-pages", options.noHugePages, "Do not use explicit huge pages");
}

MemoryConfig applyConfigDefaults(const CLI::App& command, WorkloadOptions& options) {
  MemoryConfig config = effectiveConfig();
  if (command.count("--profile") == 0) options.profile = config.profile;
  if (command.count("--threads") == 0) {
    options.threads = config.threads;
    // XMRig's config lays threads out per algorithm: the profile this run is for decides.
    const MemoryProfile* profile = findProfile(options.profile);
    if (options.threads == 0 && profile != nullptr) options.threads = config.threadsFor(profile->name);
  }
  if (command.count("--no-1gb-pages") == 0) options.noOneGbPages = !config.oneGbPages;
  if (command.count("--no-huge-pages") == 0) options.noHugePages = !config.hugePages;
  options.numa = config.numa;
  options.numaNodes = config.numaNodes;
  options.jitHugePages = config.hugePagesJit;
  options.randomxLight = config.randomxMode == RandomXMode::Light;
  options.poolPages = config.memoryPoolPages;
  return config;
}

const MemoryProfile* findProfileOrSay(const std::string& name, std::string_view command, std::ostream& err) {
  const MemoryProfile* profile = findProfile(name);
  if (profile == nullptr) fmt::print(err, "xmem {}: unknown profile '{}': expected one of {}\n", command, name, profileNames());
  return profile;
}

PlanOptions planOptions(const WorkloadOptions& options) {
  PlanOptions plan;
  plan.poolPages = options.poolPages;
  plan.threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  plan.hugePages = !options.noHugePages;
  plan.oneGbPages = !options.noOneGbPages;
  plan.numa = options.numa;
  plan.nodes = options.numaNodes;
  plan.jitHugePages = options.jitHugePages;
  plan.randomxLight = options.randomxLight;
  return plan;
}

}  // namespace xmem::cli
