// `xmem alloc`: allocate a profile's layout, say what each node got, hold it, free it.
#pragma once

#include "workload_options.h"

#include <xmem/profile_allocation.h>

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace xmem::cli {

struct AllocCommandOptions {
  WorkloadOptions workload;
  double holdSeconds = 0;
  bool json = false;
};

/// What `xmem alloc` asks of ProfileAllocation for the options in force.
ProfileAllocationOptions allocationOptions(const MemoryConfig& config);

int runAlloc(const AllocCommandOptions& options, std::ostream& out, std::ostream& err);
void addAllocCommand(CLI::App& app);

}  // namespace xmem::cli
