// The XMEM_* variables that are neither memory options (config.h) nor the preload policy
// (preload_policy.h): the places where xmem keeps its files and finds libxmem-preload.so. Listed
// with their help so `xmem --help` and the README show every variable xmem reads.
#pragma once

#include <string_view>
#include <vector>

namespace xmem {

/// Read by `xmem run` (tools/xmem), which has --preload-library for it.
inline constexpr const char* kPreloadLibraryVariable = "XMEM_PRELOAD_LIBRARY";
/// Read by `xmem serve`: the token, from the environment or --token-file, never from argv.
inline constexpr const char* kServeTokenVariable = "XMEM_SERVE_TOKEN";

struct EnvironmentVariable {
  std::string_view name;     ///< XMEM_STATE_DIR
  std::string_view flag;     ///< the option that sets the same, or empty
  std::string_view values;   ///< what it takes
  std::string_view meaning;  ///< with its default
};
/// XMEM_STATE_DIR, XMEM_SYSCTL_DIR, XMEM_PRELOAD_LIBRARY, XMEM_SERVE_TOKEN.
const std::vector<EnvironmentVariable>& placeVariables();
/// Every XMEM_* variable xmem reads: the memory options' (config.h), the preload policy's
/// (preload_policy.h), then the places.
std::vector<EnvironmentVariable> environmentVariables();

}  // namespace xmem
