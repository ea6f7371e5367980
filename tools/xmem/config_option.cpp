#include "config_option.h"

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
  app.add_option("--config", configPath(), "JSON file of memory options, as in XMRig's config: " + keys)
      ->check(CLI::ExistingFile);
}

std::optional<MemoryConfig> givenConfig() {
  if (configPath().empty()) return std::nullopt;
  MemoryConfig config = loadMemoryConfig(configPath());
  applyEnvironment(config);
  return config;
}

}  // namespace xmem::cli
