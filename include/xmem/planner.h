// The planner: what a profile with a number of worker threads needs on this machine, node by
// node, which huge pages that takes, what is free now, what is missing and how to get it.
#pragma once

#include <xmem/huge_pages.h>
#include <xmem/profiles.h>
#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/types.h>
#include <xmem/virtual_memory.h>

#include <cstdint>
#include <string>
#include <vector>

namespace xmem {

struct PlanOptions {
  unsigned threads = 1;
  /// Plan the kernel's explicit huge pages (off: none at all, 1 GiB ones included).
  bool hugePages = true;
  bool oneGbPages = true;  ///< the dataset also on 1 GiB (and larger) pages, when the profile puts it there
  bool numa = true;        ///< one layout per node with workers; false: one layout, on the first node's terms
  std::vector<std::uint32_t> nodes = {};  ///< only these nodes get workers (empty: all)
  bool jitHugePages = false;  ///< JIT code on huge pages, a mapping per thread (XMRig's huge-pages-jit)
  bool randomxLight = false;  ///< RandomX light mode: each node gets the cache alone, no dataset (randomx.mode light)
  /// Each node's scratchpad pool holds at least this many 2 MiB pages (XMRig's memory-pool), and
  /// at least what the node's threads need.
  std::uint64_t poolPages = 0;
};

/// The size of a node's scratchpad pool for `scratchpads` bytes of its threads' scratchpads: the
/// planner counts, and ProfileAllocation maps, by this one rule.
std::size_t scratchpadPoolBytes(const PlanOptions& options, std::size_t scratchpads) noexcept;

/// Whether each thread's JIT buffer is on huge pages of its own: only with huge-pages-jit (and huge
/// pages on), since 64 KiB of code on a 2 MiB page costs 2 MiB a thread. Otherwise it is on base pages
/// and needs no reservation. The planner counts, and ProfileAllocation maps, by this one rule.
bool jitOnHugePages(const PlanOptions& options) noexcept;

/// The explicit huge pages of one size a node needs for its share, and what is free there now.
struct PageNeed {
  std::size_t pageSize = 0;
  std::uint64_t need = 0;
  HugePageCounts counts;      ///< this size on the node now (none where the OS keeps no pool)
  std::uint64_t missing = 0;  ///< need beyond what is free now
};

/// Another node and how far it is (ACPI SLIT units: 10 is local).
struct NodeDistance {
  std::uint32_t node = 0;
  std::uint32_t distance = 0;
};

struct NodeRequirement {
  std::uint32_t node = 0;
  unsigned threads = 0;
  std::vector<std::uint32_t> cpus;      ///< the node's CPUs, where its workers run
  std::vector<NodeDistance> fallback;   ///< other nodes, nearest first: where a full node's pool turns
  std::size_t dataset = 0;
  std::size_t cache = 0;
  std::size_t scratchpads = 0;  ///< threads x scratchpad
  std::size_t jit = 0;          ///< threads x JIT buffer, one mapping each
  /// Each part's explicit huge pages, as the cascade lays its mapping out (largest first). The
  /// pool counts as one mapping; the JIT buffers are one mapping per thread, counted together.
  std::vector<PageCount> datasetPages, cachePages, poolPages, jitPages;
  std::vector<PageNeed> pages;  ///< all parts together, one entry per size, largest first

  std::uint64_t need(std::size_t pageSize) const noexcept;     ///< pages of this size needed
  std::uint64_t missing(std::size_t pageSize) const noexcept;  ///< of those, not free now

  /// Dataset + cache: XMRig's "allocated 2336 MB (2080+256)" per node.
  std::size_t shared() const noexcept { return dataset + cache; }
  std::size_t total() const noexcept { return dataset + cache + scratchpads + jit; }
};

struct MemoryPlan {
  const MemoryProfile* profile = nullptr;
  PlanOptions options;
  std::vector<NodeRequirement> nodes;  ///< nodes with threads only
  std::vector<MissingPages> missing;   ///< what to reserve for it, largest pages first (needs root)
  std::vector<std::string> notes;
  /// The OS keeps huge pages in a pool to count and reserve; false (Windows): they are taken from
  /// free memory at allocation, so nothing is free or missing beforehand.
  bool hugePagePool = true;

  std::size_t total() const noexcept;
  std::size_t shared() const noexcept;
  bool satisfied() const noexcept;     ///< nothing is missing
};

/// Threads go to nodes in proportion to their CPUs (evenly when the topology has no CPUs).
/// Throws Error when threads is 0.
MemoryPlan planMemory(const MemoryProfile& profile, const PlanOptions& options, const Topology& topology,
                      const SystemInfo& machine);

}  // namespace xmem
