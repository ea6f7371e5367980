// The commands that have no Windows form yet: registered all the same, so that `xmem run` on
// Windows says why and what to do instead, not "unknown command".
#include "run_command.h"
#include "serve_command.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace xmem::cli {
namespace {

void addUnavailable(CLI::App& app, const char* name, const std::string& description, const std::string& why) {
  auto* command = app.add_subcommand(name, description + " (not on Windows)");
  // Whatever follows (options, `-- PROGRAM ...`) is taken, so the answer is why, not a parse error.
  auto ignored = std::make_shared<std::vector<std::string>>();
  command->allow_extras();
  command->add_option("arguments", *ignored, "Ignored");
  command->callback([name, why, ignored] {
    std::cerr << "xmem " << name << ": not available on Windows: " << why << '\n';
    throw CLI::RuntimeError(2);
  });
}

}  // namespace

std::string findPreloadLibrary() { return ""; }

void addRunCommand(CLI::App& app) {
  addUnavailable(app, "run", "Run an unmodified program on xmem memory",
                 "it works through LD_PRELOAD, which Windows does not have; link the program with libxmem "
                 "(xmem::VirtualMemory, NumaMemoryPool) instead");
}

void addServeCommand(CLI::App& app) {
  addUnavailable(app, "serve", "Serve monitoring over HTTP",
                 "the monitoring server needs cpp-httplib, which this build has not; `xmem stats --json` or "
                 "`xmem stats --prometheus` gives the same figures once");
}

}  // namespace xmem::cli
