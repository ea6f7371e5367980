#include "command_line.h"

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
#include <utility>

namespace xmem::cli {
namespace {
// The filter of the runCommandLine in progress (one at a time: the command is one process).
CommandFilter& activeFilter() {
  static CommandFilter filter;
  return filter;
}
}  // namespace

void finishCommand(std::string_view command, const std::function<int()>& work) {
  const auto& mayRun = activeFilter();
  const bool runs = !mayRun || mayRun(command);
  if (runs && command != "release") sayAbandonedReservations(std::cerr);
  // CLI11 hands a RuntimeError's code to App::exit, which prints nothing for it.
  throw CLI::RuntimeError(runs ? work() : 0);
}

int runCommandLine(int argc, const char* const* argv, CommandFilter mayRun) {
  activeFilter() = std::move(mayRun);
  CLI::App app{"xmem - huge-page and NUMA-aware memory for latency-bound programs such as RandomX miners.\n"
               "Start with `xmem info` to see what this machine offers."};
  app.set_version_flag("--version", XMEM_VERSION);
  app.require_subcommand(1);
  addConfigOption(app);
  addInfoCommand(app);
  addPlanCommand(app);
  addReserveCommands(app);
  addAllocCommand(app);
  addRunCommand(app);
  addBenchCommand(app);
  addStatsCommand(app);
  addServeCommand(app);
  // CLI11 would only say "a subcommand is required"; name the word that is not one.
  int first = 1;
  while (first < argc && configOptionWords(argv[first]) != 0) first += configOptionWords(argv[first]);
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
  } catch (const Error& error) {
    // The library says what is missing; the command line that fixes it is the face's to spell.
    const auto remedy = rootCommandFor(error);
    std::cerr << "xmem: " << error.what() << (remedy ? " " + *remedy : std::string()) << '\n';
    return 1;
  }
  return 0;
}

}  // namespace xmem::cli
