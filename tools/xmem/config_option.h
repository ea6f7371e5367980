// The global --config option: a JSON file of memory options (see xmem/config.h) whose values
// become the defaults of the commands; flags on the command line win over it.
#pragma once

#include <xmem/config.h>

#include <CLI/CLI.hpp>

#include <optional>

namespace xmem::cli {

void addConfigOption(CLI::App& app);
/// The config given with --config (XMEM_* variables applied on top), or nullopt without one.
/// Throws Error naming the bad key or value.
std::optional<MemoryConfig> givenConfig();

}  // namespace xmem::cli
