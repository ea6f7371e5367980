// The policy of libxmem-preload.so, read from XMEM_PRELOAD_* environment variables: which
// requests it serves, on which pages and nodes, and what it reports. `xmem run` makes its options
// from the same list (preloadVariables()), sets the variables and checks them with the same parser
// before starting the program.
#pragma once

#include <xmem/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xmem {

struct PreloadPolicy {
  enum class NodeMode : std::uint8_t { Local, Fixed, Interleave, None };

  std::size_t threshold = 2 * MiB;       ///< requests at or above it are served by xmem
  bool oneGbPages = true;                ///< 1 GiB pages for requests of at least oneGbAbove
  std::size_t oneGbAbove = 1 * GiB;
  bool hugePages = true;                 ///< 2 MiB hugetlb pages where reserved
  bool transparentHugePages = true;      ///< THP for what explicit pages do not cover
  NodeMode nodeMode = NodeMode::Local;   ///< local: the allocating thread's node, preferred
  std::uint32_t node = 0;                ///< for NodeMode::Fixed (bound)
  bool lock = false;                     ///< mlock, best effort (the summary says when it failed)
  std::size_t prefaultAbove = 64 * MiB;  ///< fault in with every core from this size; 0: never
  /// Requests from 2 MiB to 64 MiB (the pool's size classes) come from a pool per node that starts
  /// with this much and grows: freed chunks are reused without a system call or a new fault. 0: off.
  std::size_t poolCapacity = 8 * MiB;
  bool reportAtExit = false;
  bool reportOnSignal = false;
  int reportSignal = 12;                 ///< SIGUSR2
  std::string reportFile;                ///< empty: standard error
};

struct PreloadPolicyParse {
  PreloadPolicy policy;
  /// One line per bad variable, naming it, its value and what is expected; its default is kept.
  std::vector<std::string> errors;
};

/// Reads the variables through `lookup` (getenv in the library; a map in tests).
PreloadPolicyParse parsePreloadPolicy(const std::function<const char*(const char*)>& lookup);

/// Named apart from the list for `xmem run`'s check that the node exists on this machine.
inline constexpr const char* kPreloadNodeVariable = "XMEM_PRELOAD_NODE";

struct PreloadVariable {
  const char* name;          ///< XMEM_PRELOAD_THRESHOLD
  const char* flag;          ///< `xmem run`'s option that sets it: --threshold
  const char* values;        ///< what it takes
  const char* meaning;
  const char* defaultValue;  ///< what applies without it
  const char* switchValue = nullptr;  ///< set: the option is a switch that sets this ("1"); else it takes a value
};
/// Every variable, in one list: the library's parser, `xmem run`'s options and --help, and the
/// README's table come from it.
const std::vector<PreloadVariable>& preloadVariables();

}  // namespace xmem
