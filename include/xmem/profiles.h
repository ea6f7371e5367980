// Memory profiles: the memory shape of each algorithm family and how xmem places it, from the
// algorithms' published parameters (RandomX's configuration, CryptoNight's and Argon2's pads).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

struct MemoryProfile {
  std::string name;              ///< e.g. "rx/0"
  std::string family;            ///< "randomx", "cryptonight", "argon2", ...
  std::string description;
  std::size_t datasetSize = 0;   ///< per NUMA node with workers (RandomX fast mode: 2080 MiB)
  std::size_t cacheSize = 0;     ///< per NUMA node with workers (RandomX: 256 MiB)
  std::size_t scratchpadSize = 0;  ///< per worker thread, from the pool
  std::size_t jitSize = 0;       ///< per worker thread, executable (RandomX programs)
  bool datasetOnOneGbPages = false;  ///< the strategy puts the dataset on 1 GiB pages where it can
};

/// Every profile, RandomX first.
const std::vector<MemoryProfile>& memoryProfiles();
/// The profile called `name` (case-insensitive), or nullptr.
const MemoryProfile* findProfile(std::string_view name);
/// "rx/0, rx/wow, ..." for messages.
std::string profileNames();

}  // namespace xmem
