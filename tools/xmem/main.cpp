// The xmem command: a thin face over the library.
#include "alloc_command.h"
#include "bench_command.h"
#include "config_option.h"
#include "info_command.h"
#include "plan_command.h"
#include "remedies.h"
#include "reserve_command.h"
#include "run_command.h"
#include "serve_command.h"
#include "stats_command.h"

#include <xmem/error.h>
#include <xmem/version.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"xmem - huge-page and NUMA-aware memory for latency-bound programs such as RandomX miners.\n"
               "Start with `xmem info` to see what this machine offers."};
  app.set_version_flag("--version", XMEM_VERSION);
  app.require_subcommand(1);
  xmem::cli::addConfigOption(app);
  xmem::cli::addInfoCommand(app);
  xmem::cli::addPlanCommand(app);
  xmem::cli::addReserveCommands(app);
  xmem::cli::addAllocCommand(app);
  xmem::cli::addRunCommand(app);
  xmem::cli::addBenchCommand(app);
  xmem::cli::addStatsCommand(app);
  xmem::cli::addServeCommand(app);
  // CLI11 would only say "a subcommand is required"; name the word that is not one.
  int first = 1;
  while (first < argc && xmem::cli::configOptionWords(argv[first]) != 0) first += xmem::cli::configOptionWords(argv[first]);
  if (first < argc && argv[first][0] != '-') {
    std::string known;
    bool found = false;
    for (const auto* command : app.get_subcommands({})) {
      known += (known.empty() ? "" : ", ") + command->get_name();
      found = found || command->get_name() == argv[first];
    }
    if (!found) {
      std::cerr << "xmem: unknown command '" << argv[first] << "': expected one of " << known << "\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const xmem::Error& error) {
    // The library says what is missing; the command line that fixes it is the face's to spell.
    const auto remedy = xmem::cli::rootCommandFor(error);
    std::cerr << "xmem: " << error.what() << (remedy ? " " + *remedy : std::string()) << '\n';
    return 1;
  }
  return 0;
}
