// Monitor: takes Snapshots of this process, the machine and any watched process, cheaply enough
// to be asked every scrape. What the kernel says is read at most once per `cacheFor` (a second by
// default); xmem's own records are copied under their locks into memory reserved beforehand, so
// taking a snapshot never allocates while an xmem lock is held and never stalls an allocation.
// Bandwidth is never measured here: measureBandwidth() runs on demand and the result is kept.
#pragma once

#include <xmem/snapshot.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

struct MonitorOptions {
  std::chrono::milliseconds cacheFor{1000};  ///< how long a reading of the kernel's files is reused
  std::size_t minMappingBytes = 2 * MiB;     ///< mappings of watched processes smaller than this are summed, not listed
  bool includeSelf = true;                   ///< read this process's own mappings as a watched one
};

class Monitor {
 public:
  explicit Monitor(MonitorOptions options = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// Watch process `pid` (read from outside: no change to it). A process that is gone stays
  /// listed with its error until unwatch().
  void watch(std::int64_t pid);
  void unwatch(std::int64_t pid);
  std::vector<std::int64_t> watched() const;

  /// Everything now (kernel files at most `cacheFor` old). Never throws for what it cannot read:
  /// the part says why (ProcessStats::error, KernelMemoryStats fields left empty).
  Snapshot snapshot();

  /// Keep a bandwidth measurement; later snapshots carry it with its time.
  void setBandwidth(BandwidthMatrix matrix);
  /// Tell the monitor a RandomX hashrate; snapshots carry the bandwidth it implies.
  void setRandomxHashrate(double hashesPerSecond);

  /// Give back what xmem's pools in this process do not use (MemoryPool::trim). Returns bytes.
  std::size_t trimPools();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// The snapshot parts that depend on nothing but the process and the machine, for a caller that
/// does not want a Monitor: this process's allocations and pools.
std::vector<AllocationStats> allocationStatistics();
std::vector<PoolNodeStats> poolStatistics();

struct BandwidthOptions {
  std::vector<std::uint32_t> cpuNodes = {};     ///< empty: every node
  std::vector<std::uint32_t> memoryNodes = {};  ///< empty: every node
  std::vector<std::string> kernels = {"read", "copy", "triad"};
  std::size_t bufferBytes = 0;             ///< per array; 0: 4x the last-level cache, at least 256 MiB, at most 1/8 of free memory
  unsigned threads = 0;                    ///< per measurement; 0: the CPUs of the node
  unsigned repetitions = 5;                ///< best and median of this many timed passes
};

/// Timed read / copy / triad kernels with threads pinned on each CPU node and memory bound to each
/// memory node (an MLC-style matrix), on buffers well past the last-level cache. It takes the
/// machine's bandwidth while it runs: call it on demand, never at scrape time. Throws Error for
/// an unknown node or kernel.
BandwidthMatrix measureBandwidth(const BandwidthOptions& options = {});

/// RandomX reads one 64-byte dataset line per program iteration: 2048 x 8 per hash = 1 MiB.
RandomxBandwidthEstimate estimateRandomxBandwidth(double hashesPerSecond) noexcept;

}  // namespace xmem
