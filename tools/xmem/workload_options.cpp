#include "workload_options.h"

#include "config_option.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <ostream>
#include <thread>

namespace xmem::cli {

void addWorkloadOptions(CLI::App& command, WorkloadOptions& options, OptionUse use) {
  // An unknown profile is the command's to report (exit 2, with the names that exist).
  options.flags.add(command, use, "profile");
}

void addWorkloadOptions(CLI::App& command, WorkloadOptions& options, std::initializer_list<std::string_view> keys) {
  options.flags.add(command, keys, "profile");
}

void resolveWorkloadOptions(WorkloadOptions& options) {
  MemoryConfig config = effectiveConfig();
  options.flags.apply(config);
  options.profile = options.flags.typed("profile").value_or(config.profile);
  // XMRig's config lays threads out per algorithm: the profile this run is for decides.
  const MemoryProfile* profile = findProfile(options.profile);
  if (profile != nullptr) config.profile = options.profile;
  if (config.threads == 0 && profile != nullptr) config.threads = config.threadsFor(profile->name);
  options.config = std::move(config);
}

const MemoryProfile* findProfileOrSay(const std::string& name, std::string_view command, std::ostream& err) {
  const MemoryProfile* profile = findProfile(name);
  if (profile == nullptr) fmt::print(err, "xmem {}: unknown profile '{}': expected one of {}\n", command, name, profileNames());
  return profile;
}

PlanOptions planOptions(const MemoryConfig& config) {
  PlanOptions plan;
  plan.poolPages = config.memoryPoolPages;
  plan.threads = config.threads != 0 ? config.threads : std::max(1U, std::thread::hardware_concurrency());
  plan.hugePages = config.hugePages;
  plan.oneGbPages = config.oneGbPages;
  plan.numa = config.numa;
  plan.nodes = config.numaNodes;
  plan.jitHugePages = config.hugePagesJit;
  plan.randomxLight = config.randomxMode == RandomXMode::Light;
  return plan;
}

}  // namespace xmem::cli
