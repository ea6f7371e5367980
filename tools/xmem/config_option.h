// The global --config option: a JSON file of memory options (xmem's own or XMRig's config.json,
// see xmem/config.h) whose values become the defaults of the commands. XMEM_* variables apply on
// top of it, with or without a file; flags typed on the command line win over both.
#pragma once

#include <xmem/config.h>

#include <CLI/CLI.hpp>

#include <string_view>

namespace xmem::cli {

/// Adds --config to `app` and lets every subcommand pass it up, so it works before or after the
/// command word, as --config FILE or --config=FILE. Call before adding the subcommands.
void addConfigOption(CLI::App& app);
/// How many words of the command line the option takes at `word`: 2 for "--config FILE", 1 for
/// "--config=FILE", 0 for any other word.
int configOptionWords(std::string_view word);
/// The options in force: the --config file's, or without one the commands' own defaults (1 GiB
/// pages where a profile wants them), with XMEM_* variables applied. Throws Error naming the bad
/// key, variable or value.
MemoryConfig effectiveConfig();

}  // namespace xmem::cli
