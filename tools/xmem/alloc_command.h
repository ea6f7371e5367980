// `xmem alloc`: allocate a profile's layout, say what each node got, hold it, free it.
#pragma once

#include "workload_options.h"

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace xmem::cli {

struct AllocCommandOptions {
  WorkloadOptions workload;
  double holdSeconds = 0;
  bool noPrefault = false;
  bool lock = false;
  bool json = false;
  // From --config or XMEM_* only:
  bool transparentHugePages = true;
};

int runAlloc(const AllocCommandOptions& options, std::ostream& out, std::ostream& err);
void addAllocCommand(CLI::App& app);

}  // namespace xmem::cli
