// The memory options users know from XMRig's config (huge-pages, huge-pages-jit, 1gb-pages,
// memory-pool, numa) plus xmem's own, with one table behind the JSON config file, the XMEM_*
// environment variables and this struct. Checked strictly: an unknown key or a bad value is an
// Error that names it and says what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

struct MemoryConfig {
  bool hugePages = true;            ///< "huge-pages": explicit 2 MiB pages, else THP
  bool hugePagesJit = false;        ///< "huge-pages-jit": JIT code on huge pages
  bool oneGbPages = false;          ///< "1gb-pages": the dataset on 1 GiB pages
  bool memoryPool = false;          ///< "memory-pool": scratchpads from one pool ...
  std::uint64_t memoryPoolPages = 0;  ///< ... of this many 2 MiB pages (0: as many as the threads need)
  bool numa = true;                 ///< "numa": place memory per node ...
  std::vector<std::uint32_t> numaNodes;  ///< ... only on these nodes (empty: all)
  bool transparentHugePages = true; ///< "thp"
  bool lock = false;                ///< "lock": mlock what is allocated (best effort, reported)
  unsigned prefaultThreads = 0;     ///< "prefault": true = all cores, false = 0, or a thread count (0 here: all cores)
  bool prefault = true;
  std::string profile = "rx/0";     ///< "profile"
  unsigned threads = 0;             ///< "threads": 0 = one per CPU
};

/// Parse a JSON object of options; `origin` names the source in messages (a file name).
MemoryConfig parseMemoryConfig(std::string_view json, std::string_view origin = "config");
/// Read and parse a file. Throws Error naming the file when it cannot be read.
MemoryConfig loadMemoryConfig(const std::string& path);
/// Apply XMEM_* variables (XMEM_HUGE_PAGES=0, XMEM_NUMA=0,1, ...) on top of `config`.
void applyEnvironment(MemoryConfig& config);

/// The table, for help texts: key, environment variable, what it takes.
struct ConfigKey {
  std::string_view key;
  std::string_view environment;
  std::string_view takes;
};
const std::vector<ConfigKey>& memoryConfigKeys();

}  // namespace xmem
