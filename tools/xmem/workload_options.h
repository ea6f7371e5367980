// The options every workload command shares (--profile, --threads, --no-1gb-pages,
// --no-huge-pages), their defaults from --config and XMEM_* variables, and turning them into a
// profile and a plan.
#pragma once

#include <xmem/config.h>
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
  // From --config or XMEM_* only:
  bool numa = true;
  std::vector<std::uint32_t> numaNodes = {};
  bool jitHugePages = false;
  bool randomxLight = false;
  std::uint64_t poolPages = 0;  ///< memory-pool: 2 MiB pages per node's scratchpad pool
};

void addWorkloadOptions(CLI::App& command, WorkloadOptions& options);
/// Fills the options not given on the command line from effectiveConfig() (--config, XMEM_*);
/// returns that config for the command's other options. Throws Error for a bad file or variable.
MemoryConfig applyConfigDefaults(const CLI::App& command, WorkloadOptions& options);
/// The profile, or nullptr after telling `err` which names exist.
const MemoryProfile* findProfileOrSay(const std::string& name, std::string_view command, std::ostream& err);
PlanOptions planOptions(const WorkloadOptions& options);

}  // namespace xmem::cli
