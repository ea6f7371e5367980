// The options every workload command shares (--profile, --threads, --no-1gb-pages,
// --no-huge-pages), their defaults from --config, and turning them into a profile and a plan.
#pragma once

#include <xmem/planner.h>

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace xmem::cli {

struct WorkloadOptions {
  std::string profile = "rx/0";
  unsigned threads = 0;  ///< 0: one per CPU
  bool noOneGbPages = false;
  bool noHugePages = false;
  // From --config only:
  bool numa = true;
  std::vector<std::uint32_t> numaNodes = {};
};

void addWorkloadOptions(CLI::App& command, WorkloadOptions& options);
/// Fills the options not given on the command line from --config, when one was given.
void applyConfigDefaults(const CLI::App& command, WorkloadOptions& options);
/// The profile, or nullptr after telling `err` which names exist.
const MemoryProfile* findProfileOrSay(const std::string& name, std::string_view command, std::ostream& err);
PlanOptions planOptions(const WorkloadOptions& options);

}  // namespace xmem::cli
