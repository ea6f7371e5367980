// What the live page draws over time: a ring of samples taken from snapshots (15 minutes at one
// sample per 5 s by default), kept in the server so that a page opened now already has graphs.
#pragma once

#include <xmem/snapshot.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace xmem::server {

/// One point of history: the figures the page graphs, from one snapshot.
struct HistorySample {
  std::chrono::system_clock::time_point at{};
  struct Pool {
    std::string pool;
    std::uint32_t node = 0;
    std::size_t capacityBytes = 0;
    std::size_t inUseBytes = 0;
    double fragmentation = 0;
  };
  std::vector<Pool> pools;
  struct Node {
    std::uint32_t node = 0;
    std::uint64_t hugePageBlocks = 0;   ///< 2 MiB blocks obtainable (summed over zones)
    double unusableFreeIndex = 0;       ///< at the 2 MiB order (of its largest zone)
  };
  std::vector<Node> nodes;
  std::uint64_t thpFaultFallback = 0;   ///< /proc/vmstat thp_fault_fallback
  std::uint64_t compactFail = 0;        ///< /proc/vmstat compact_fail
  struct Process {
    std::int64_t pid = 0;
    std::uint64_t residentBytes = 0;
    double hugeFraction = 0;            ///< of its large mappings' resident bytes
  };
  std::vector<Process> processes;
};

/// A fixed-size ring of samples. Thread-safe; record() allocates before it takes the lock.
class History {
 public:
  explicit History(std::size_t capacity = 180);
  void record(const Snapshot& snapshot);
  /// Oldest first.
  std::vector<HistorySample> samples() const;
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<HistorySample> ring_;
  std::size_t next_ = 0;
};

/// The samples as JSON ({"schema_version":..,"samples":[...]}), for /api/v1/history and the page.
std::string historyJson(const History& history);

}  // namespace xmem::server
