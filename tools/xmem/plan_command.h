// `xmem plan`: what a profile with N worker threads needs on this machine, node by node.
#pragma once

#include "workload_options.h"

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace xmem::cli {

struct PlanCommandOptions {
  WorkloadOptions workload;
  bool json = false;
};

/// Writes the plan; returns the exit code (0: nothing missing or missing pages listed, 2: bad input).
int runPlan(const PlanCommandOptions& options, std::ostream& out, std::ostream& err);
void addPlanCommand(CLI::App& app);

}  // namespace xmem::cli
