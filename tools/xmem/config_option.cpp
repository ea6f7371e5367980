#include "config_option.h"

#include <xmem/environment.h>

#include <string>

namespace xmem::cli {
namespace {
std::string& configPath() {
  static std::string path;
  return path;
}
}  // namespace

void addConfigOption(CLI::App& app) {
  std::string keys;
  for (const auto& key : memoryConfigKeys()) keys += (keys.empty() ? "" : ", ") + std::string(key.key);
  configPath().clear();  // a command line read before in this process (the fuzzer's) left its own
  app.add_option("--config", configPath(),
                 "JSON file of memory options: XMRig's config.json, or xmem's own keys (" + keys +
                     "). XMEM_* variables apply on top; flags win over both")
      ->check(CLI::ExistingFile);
  std::string footer = "Environment: XMEM_* for each key of --config (" + std::string(memoryConfigKeys().front().environment) +
                       ", ...), XMEM_PRELOAD_* (see xmem run --help), and";
  for (const auto& variable : placeVariables())
    footer += "\n  " + std::string(variable.name) + "=" + std::string(variable.values) + "  " + std::string(variable.meaning);
  app.footer(footer);
  // Subcommands made after this inherit it: an option they do not know goes to the app, so
  // `xmem plan --config FILE` reads the file as `xmem --config FILE plan` does.
  app.fallthrough();
}

int configOptionWords(std::string_view word) {
  if (word == "--config") return 2;
  return word.substr(0, 9) == "--config=" ? 1 : 0;
}

MemoryConfig effectiveConfig() {
  MemoryConfig config;
  if (!configPath().empty()) {
    config = loadMemoryConfig(configPath());
  } else {
    // MemoryConfig's defaults are XMRig's (1gb-pages off); the commands plan 1 GiB pages unless
    // told not to, and without a file only XMEM_* variables may change that.
    config.oneGbPages = true;
  }
  applyEnvironment(config);
  return config;
}

}  // namespace xmem::cli
