// `xmem run -- PROGRAM ARGS...`: start an unmodified program on xmem memory (libxmem-preload.so),
// with the policy given as options, checked before the program starts.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace xmem::cli {

struct RunCommandOptions {
  std::map<std::string, std::string> variables;  ///< XMEM_PRELOAD_* from the options given
  std::string library;                           ///< --preload-library; empty: find it
  std::vector<std::string> command;              ///< the program and its arguments
};

/// Where libxmem-preload.so is: $XMEM_PRELOAD_LIBRARY, next to this xmem (../lib, ../lib/<arch>),
/// or the build tree it came from. Empty when none exists.
std::string findPreloadLibrary();

/// Sets the environment and replaces this process with the program; returns only on error
/// (2: bad option value, 127: the program cannot be run), saying why on `err`.
int runProgram(const RunCommandOptions& options, std::ostream& err);
void addRunCommand(CLI::App& app);

}  // namespace xmem::cli
