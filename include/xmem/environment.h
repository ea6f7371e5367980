// The XMEM_* variables that are neither memory options (config.h) nor the preload policy
// (preload_policy.h): the places where xmem keeps its files and finds libxmem-preload.so. Listed
// with their help so `xmem --help` and the README show every variable xmem reads.
#pragma once

#include <string_view>
#include <vector>

namespace xmem {

/// Read by `xmem run` (tools/xmem), which has --preload-library for it.
inline constexpr const char* kPreloadLibraryVariable = "XMEM_PRELOAD_LIBRARY";

struct PlaceVariable {
  std::string_view name;     ///< XMEM_STATE_DIR
  std::string_view flag;     ///< the option that sets the same, or empty
  std::string_view values;   ///< what it takes
  std::string_view meaning;  ///< with its default
};
const std::vector<PlaceVariable>& placeVariables();

}  // namespace xmem
