// `xmem alloc`: allocate a profile's layout, say what each node got, hold it, free it.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace xmem::cli {

struct AllocCommandOptions {
  std::string profile = "rx/0";
  unsigned threads = 0;
  double holdSeconds = 0;
  bool noOneGbPages = false;
  bool noHugePages = false;
  bool noPrefault = false;
  bool lock = false;
  bool json = false;
};

int runAlloc(const AllocCommandOptions& options, std::ostream& out, std::ostream& err);
void addAllocCommand(CLI::App& app);

}  // namespace xmem::cli
