// The memory options users know from XMRig's config (huge-pages, huge-pages-jit, 1gb-pages,
// memory-pool, numa, randomx mode) plus xmem's own, with one table behind the JSON config file,
// the XMEM_* environment variables and this struct. Checked strictly: an unknown key or a bad
// value is an Error that names it and says what was expected. The command's flags are made from
// the same table (memoryConfigKeys()).
//
// Two shapes of file are read:
// - xmem's own: a flat object of the table's keys ({"huge-pages": true, "threads": 8}); any other
//   key is an error.
// - XMRig's config.json, recognised by its nested "cpu" or "randomx" object. Its memory options
//   are read (cpu.huge-pages, cpu.huge-pages-jit, cpu.memory-pool, randomx.1gb-pages,
//   randomx.numa, randomx.mode, randomx.scratchpad_prefetch_mode, and the thread count of each
//   "cpu" profile); everything else in it (api, http, pools, log-file, donate-level, opencl, ...)
//   is XMRig's business and ignored. xmem's flat keys may sit beside those sections and stay strict.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

/// XMRig's randomx.mode. xmem plans and allocates fast mode's dataset unless the mode is Light.
enum class RandomXMode { Auto, Fast, Light };

/// One profile of XMRig's "cpu" section: how many worker threads it lays out for the algorithms it
/// covers ("rx" covers rx/*, "cn/0" only cn/0, "*" the rest), or the profile it borrows them from.
struct CpuThreadProfile {
  unsigned threads = 0;  ///< 0: the algorithm is disabled there ("cn/0": false)
  std::string sameAs;    ///< "rx/arq": "rx/wow" borrows rx/wow's threads
};

struct MemoryConfig {
  bool hugePages = true;            ///< "huge-pages": explicit 2 MiB pages, else THP
  bool hugePagesJit = false;        ///< "huge-pages-jit": JIT code on huge pages (one 2 MiB page per thread)
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
  unsigned threads = 0;             ///< "threads": 0 = from cpuProfiles, else one per CPU
  /// "randomx-mode": Light plans and allocates RandomX's cache alone, no dataset, on each node.
  RandomXMode randomxMode = RandomXMode::Auto;
  /// "scratchpad-prefetch-mode" (0 off, 1 prefetcht0, 2 prefetchnta, 3 mov): how the miner's
  /// RandomX code reads its scratchpad. xmem's layout does not depend on it; it is checked and
  /// kept for the program that runs RandomX on xmem's memory.
  unsigned scratchpadPrefetchMode = 1;
  /// XMRig's "cpu" profiles by name ("rx", "cn/0", "*"), from an XMRig config.json.
  std::map<std::string, CpuThreadProfile, std::less<>> cpuProfiles;

  /// The worker threads XMRig's profiles give xmem's profile `profile` (e.g. "rx/0"): its exact
  /// name, then its family ("rx"), then "*", following aliases. 0 when none covers it or it is
  /// disabled there.
  unsigned threadsFor(std::string_view profile) const;
};

/// Parse a JSON object of options; `origin` names the source in messages (a file name).
MemoryConfig parseMemoryConfig(std::string_view json, std::string_view origin = "config");
/// Read and parse a file. Throws Error naming the file when it cannot be read.
MemoryConfig loadMemoryConfig(const std::string& path);
/// Apply XMEM_* variables on top of `config`. Each is read as its key expects: XMEM_THREADS=1 is
/// one thread, XMEM_NUMA=0 is node 0 (off, false, no or a list "0,1" also work), XMEM_MEMORY_POOL=1
/// one 2 MiB page (true: as many as needed), XMEM_HUGE_PAGES=1 true. Throws Error naming the
/// variable, its value and what it takes.
void applyEnvironment(MemoryConfig& config);

/// Which commands an option matters to: the plan's (plan, reserve --profile, alloc) or only an
/// allocation's (alloc).
enum class OptionUse : std::uint8_t { Plan, Allocation };

/// One key of the table, with the names made from it: its variable (XMEM_ and the key in capitals,
/// '-' as '_') and its flags (--KEY, and --no-KEY where false is a value it takes).
struct ConfigKey {
  std::string_view key;          ///< "huge-pages", the flat key of xmem's file
  std::string_view environment;  ///< "XMEM_HUGE_PAGES"
  std::string_view xmrigKey;     ///< "cpu.huge-pages"; empty: xmem's own
  std::string_view takes;        ///< what its value may be
  std::string_view help;         ///< what it does
  std::string_view flag;         ///< "--huge-pages"
  std::string_view negation;     ///< "--no-huge-pages"; empty when false is not a value it takes
  std::string_view shortFlag;    ///< "-p"; usually empty
  bool flagTakesValue;           ///< --threads 8; false: a switch (--lock, --no-lock; --lock=VALUE still works)
  OptionUse use;
};
const std::vector<ConfigKey>& memoryConfigKeys();

/// Applies `text` to `key` as its variable's text is read (so "1" is one thread, true for lock).
/// `origin` (a variable, a flag) starts the message; empty: the message is the value and what the
/// key takes alone. Throws Error for an unknown key or a bad value.
void applyOptionText(MemoryConfig& config, std::string_view key, const std::string& text, std::string_view origin);

}  // namespace xmem
