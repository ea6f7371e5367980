// The options every workload command shares: the options table's flags (--profile, --threads,
// --huge-pages/--no-huge-pages, --1gb-pages/--no-1gb-pages, --numa, ...), over the --config file
// and XMEM_* variables, and turning them into a profile and a plan.
#pragma once

#include "option_flags.h"

#include <xmem/config.h>
#include <xmem/planner.h>

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <initializer_list>
#include <string>
#include <string_view>

namespace xmem::cli {

struct WorkloadOptions {
  OptionFlags flags;
  /// After resolveWorkloadOptions: the file's, the variables' and the flags' options, in that order.
  MemoryConfig config;
  /// The profile asked for, as typed: the command checks it (findProfileOrSay).
  std::string profile;
};

/// Adds the table's flags for `use` (Plan: plan and reserve; Allocation: alloc's too).
void addWorkloadOptions(CLI::App& command, WorkloadOptions& options, OptionUse use = OptionUse::Plan);
/// Only the named keys' flags (a command that takes a few of the table's options).
void addWorkloadOptions(CLI::App& command, WorkloadOptions& options, std::initializer_list<std::string_view> keys);
/// Fills `options.config` from effectiveConfig() (--config, XMEM_*) and the flags typed over it;
/// the threads come from XMRig's profile for the algorithm when neither gives a count. Throws
/// Error for a bad file, variable or flag.
void resolveWorkloadOptions(WorkloadOptions& options);
/// The profile, or nullptr after telling `err` which names exist.
const MemoryProfile* findProfileOrSay(const std::string& name, std::string_view command, std::ostream& err);
PlanOptions planOptions(const MemoryConfig& config);

}  // namespace xmem::cli
