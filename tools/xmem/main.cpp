// The xmem command: a thin face over the library.
#include "info_command.h"

#include <xmem/error.h>
#include <xmem/version.h>

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"xmem - huge-page and NUMA-aware memory for latency-bound programs such as RandomX miners.\n"
               "Start with `xmem info` to see what this machine offers."};
  app.set_version_flag("--version", XMEM_VERSION);
  app.require_subcommand(1);
  xmem::cli::addInfoCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const xmem::Error& error) {
    std::cerr << "xmem: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
