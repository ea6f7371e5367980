// `xmem info`: what this machine offers for memory, usable now or not, and why.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>

namespace xmem::cli {

struct InfoOptions {
  bool json = false;
};

/// Writes the report for the machine as probed now. Returns the process exit code.
int runInfo(const InfoOptions& options, std::ostream& out);
void addInfoCommand(CLI::App& app);

}  // namespace xmem::cli
