// Monitor: one snapshot from the kernel's files (cached), xmem's own records (always fresh, copied
// under their locks into room reserved first) and the watched processes.
#include <xmem/huge_pages.h>
#include <xmem/memory_pool.h>
#include <xmem/monitor.h>

#include "mapping/allocation_registry.h"
#include "monitor/process_stats.h"
#include "monitor/published_records.h"
#include "os/os.h"

#include <algorithm>
#include <bit>
#include <map>
#include <mutex>

namespace xmem {
namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
struct Cached {
  Clock::time_point at{};
  bool valid = false;
  T value{};
  bool fresh(Clock::time_point now, std::chrono::milliseconds maxAge) const { return valid && now - at < maxAge; }
};

// The buddy order of a PMD-sized huge page: 9 for 2 MiB of 4 KiB pages.
std::size_t hugePageOrder(const MachineFacts& facts) {
  const std::size_t base = facts.basePageSize != 0 ? facts.basePageSize : 4 * KiB;
  const std::size_t huge = facts.thp.pmdSize != 0 ? facts.thp.pmdSize : 2 * MiB;
  return static_cast<std::size_t>(std::countr_zero(huge / base));
}

NodeFragmentation fragmentationOf(const BuddyZone& zone, std::size_t kOrderOfHugePage) {
  NodeFragmentation out;
  out.node = zone.node;
  out.zone = zone.zone;
  out.freeBlocksByOrder = zone.freeBlocksByOrder;
  std::uint64_t freePages = 0;
  for (std::size_t order = 0; order < zone.freeBlocksByOrder.size(); ++order) {
    freePages += zone.freeBlocksByOrder[order] << order;
    if (order >= kOrderOfHugePage) out.hugePageBlocks += zone.freeBlocksByOrder[order] << (order - kOrderOfHugePage);
  }
  // The kernel's unusable free index at the huge page order: the share of free memory in blocks
  // too small for a 2 MiB page.
  if (freePages != 0)
    out.unusableFreeIndex = static_cast<double>(freePages - (out.hugePageBlocks << kOrderOfHugePage)) /
                            static_cast<double>(freePages);
  return out;
}

KernelMemoryStats kernelStats(const MachineFacts& facts, const KernelCounters& counters) {
  KernelMemoryStats out;
  out.thp = facts.thp;
  out.memlock = facts.memlock;
  out.counters = counters.events;
  const std::size_t order = hugePageOrder(facts);
  for (const auto& zone : counters.buddy) out.fragmentation.push_back(fragmentationOf(zone, order));
  out.oneGbAvailability =
      "cannot be read: free memory is listed in blocks of at most 4 MiB; only an attempt to reserve tells";
  return out;
}

std::vector<RecordedReservation> readRecordedReservations() {
  try {
    return recordedReservations();
  } catch (...) {
    return {};  // no records readable: nothing xmem changed is shown (the counts still are)
  }
}

std::vector<PagePoolStats> pagePoolStats(const MachineFacts& facts, const std::vector<RecordedReservation>& recorded) {
  auto withRecord = [&](PagePoolStats pool) {
    for (const auto& record : recorded)
      if (record.pageSize == pool.pageSize && record.node == pool.node) {
        pool.countBeforeXmem = record.original;
        pool.addedByXmem = record.now > record.original ? record.now - record.original : 0;
        pool.restoredOnRelease = true;
      }
    return pool;
  };
  std::vector<PagePoolStats> out;
  for (const auto& size : facts.hugePageSizes) {
    out.push_back(withRecord({.pageSize = size.pageSize, .node = std::nullopt, .counts = size.counts}));
    for (const auto& [node, counts] : size.nodes) out.push_back(withRecord({.pageSize = size.pageSize, .node = node, .counts = counts}));
  }
  return out;
}

std::string cut(const char* text, std::size_t size) { return {text, strnlen(text, size)}; }

// The part of the mappings in [begin, end), scaled where a mapping lies only partly inside.
struct RangeFigures {
  std::size_t anonHuge = 0;
  std::size_t resident = 0;
  std::map<std::uint32_t, std::size_t> byNode;
};

RangeFigures figuresOf(const std::vector<MappingUsage>& mappings, std::uintptr_t begin, std::uintptr_t end) {
  RangeFigures out;
  for (const auto& mapping : mappings) {
    const double share = monitoring::shareInside(mapping, begin, end);
    if (share == 0) continue;
    auto scaled = [&](std::size_t bytes) { return static_cast<std::size_t>(static_cast<double>(bytes) * share); };
    out.anonHuge += scaled(mapping.anonHugePages);
    out.resident += scaled(std::max(mapping.residentBytes, mapping.hugeTlbBytes));
    for (const auto& [node, bytes] : mapping.bytesByNode) out.byNode[node] += scaled(bytes);
  }
  return out;
}

void judge(AllocationStats& stats, const AllocationRecord& record) {
  std::size_t huge = 0;
  for (const auto& part : stats.parts)
    if (part.backing != Backing::Base) huge += part.bytes;
  stats.health = monitoring::healthOf(huge, stats.mappedBytes);
  std::string why;
  if (stats.health != Health::Green)
    why = formatBytes(huge) + " of " + formatBytes(stats.mappedBytes) + " on huge pages (THP counts once touched)";
  if (stats.nodeAsked && stats.policy != NumaPolicy::None) {
    if (!stats.bound) {
      stats.health = Health::Red;
      why += std::string(why.empty() ? "" : "; ") + "the NUMA policy could not be applied";
    } else {
      std::size_t elsewhere = 0;
      for (const auto& [node, bytes] : stats.residentBytesByNode)
        if (node != *stats.nodeAsked) elsewhere += bytes;
      if (elsewhere != 0) {
        if (stats.health == Health::Green) stats.health = Health::Yellow;
        why += std::string(why.empty() ? "" : "; ") + formatBytes(elsewhere) + " is not on node " + std::to_string(*stats.nodeAsked);
      }
    }
  }
  const std::string decisions = cut(record.decisions.data(), record.decisions.size());
  if (!why.empty() && !decisions.empty()) why += " (" + decisions + ")";
  stats.reason = std::move(why);
}

AllocationStats allocationStats(const AllocationRecord& record, const std::vector<MappingUsage>& mappings, const ThpInfo& thp,
                                std::size_t basePageSize) {
  AllocationStats out;
  out.name = cut(record.name.data(), record.name.size());
  out.address = record.address;
  out.requestedBytes = record.requestedBytes;
  out.mappedBytes = record.mappedBytes;
  out.policy = record.policy;
  out.bound = record.bound;
  out.locked = record.locked;
  out.prefaulted = record.prefaulted;
  if (record.nodeAsked >= 0) out.nodeAsked = static_cast<std::uint32_t>(record.nodeAsked);
  for (const auto& [pageSize, bytes] : record.hugeTlb)
    if (bytes != 0) out.parts.push_back({Backing::HugeTlb, pageSize, bytes});
  const auto figures = figuresOf(mappings, record.address, record.address + record.mappedBytes);
  out.residentBytesByNode = figures.byNode;
  if (record.poolBytes != 0) {
    out.fromPool = true;
    const bool huge = record.poolPageSize > basePageSize;
    out.parts.push_back({huge ? Backing::HugeTlb : Backing::Base, record.poolPageSize, record.poolBytes});
  }
  const std::size_t thpBytes = std::min(record.transparentBytes, figures.anonHuge);
  if (thpBytes != 0) out.parts.push_back({Backing::Transparent, thp.pmdSize != 0 ? thp.pmdSize : 2 * MiB, thpBytes});
  const std::size_t base = record.baseBytes + record.transparentBytes - thpBytes;
  if (base != 0) out.parts.push_back({Backing::Base, basePageSize, base});
  judge(out, record);
  return out;
}

PoolNodeStats poolNodeStats(const ListedPoolStats& listed) {
  const PoolStats& stats = listed.stats;
  PoolNodeStats out;
  out.pool = listed.name;
  out.node = listed.node.value_or(0);
  out.capacityBytes = stats.capacity;
  out.inUseBytes = stats.inUse;
  out.highWaterBytes = stats.highWater;
  out.freeBytes = stats.capacity > stats.inUse ? stats.capacity - stats.inUse : 0;
  out.largestFreeBlockBytes = std::min(stats.largestFreeBlock, out.freeBytes);
  out.fragmentation = stats.freeSpaceFragmentation();
  out.hugeBytes = stats.hugeBytes;
  out.pageSize = stats.pageSize;
  out.allocations = stats.allocations;
  out.releases = stats.releases;
  out.failures = stats.failures;
  out.fallbacksOut = stats.fallbacksOut;
  out.fallbacksIn = stats.fallbacksIn;
  return out;
}

std::vector<AllocationStats> allocationStatisticsFrom(const std::vector<MappingUsage>& mappings, const MachineFacts& facts) {
  const std::size_t base = facts.basePageSize != 0 ? facts.basePageSize : 4 * KiB;
  std::vector<AllocationStats> out;
  for (const auto& record : AllocationRegistry::instance().records()) out.push_back(allocationStats(record, mappings, facts.thp, base));
  return out;
}

}  // namespace

class Monitor::Impl {
 public:
  explicit Impl(MonitorOptions options) : options_(options), os_(os::current()) {}

  Snapshot snapshot() {
    const auto started = Clock::now();
    Snapshot out;
    out.xmemVersion = XMEM_VERSION_STRING;
    out.takenAt = std::chrono::system_clock::now();
    out.hostname = os_.hostName();
    std::vector<std::int64_t> pids;
    {
      std::lock_guard lock(mutex_);
      refresh(started);
      out.machine = facts_.value;
      out.kernel = kernelStats(facts_.value, counters_.value.counters);
      out.pagePools = pagePoolStats(facts_.value, counters_.value.recorded);
      pids = watched_;
      out.bandwidth = bandwidth_;
      if (hashrate_ > 0) out.randomx = estimateRandomxBandwidth(hashrate_);
    }
    const ProcessUsage self = usageOf(0, 0, started);
    out.allocations = allocationStatisticsFrom(self.mappings, out.machine);
    out.pools = poolStatistics();
    if (options_.includeSelf)
      out.self = monitoring::processStats(self, out.machine.thp, options_.minMappingBytes, out.machine.basePageSize);
    for (const auto pid : pids) out.processes.push_back(watchedProcess(pid, out.machine, started));
    out.took = Clock::now() - started;
    return out;
  }

  void watch(std::int64_t pid) {
    std::lock_guard lock(mutex_);
    if (std::find(watched_.begin(), watched_.end(), pid) == watched_.end()) watched_.push_back(pid);
  }
  void unwatch(std::int64_t pid) {
    std::lock_guard lock(mutex_);
    std::erase(watched_, pid);
    usage_.erase(pid);
  }
  std::vector<std::int64_t> watched() const {
    std::lock_guard lock(mutex_);
    return watched_;
  }
  void setBandwidth(BandwidthMatrix matrix) {
    std::lock_guard lock(mutex_);
    bandwidth_ = std::move(matrix);
  }
  void setRandomxHashrate(double hashesPerSecond) {
    std::lock_guard lock(mutex_);
    hashrate_ = hashesPerSecond;
  }

 private:
  // The machine's facts and the kernel's counters, read again once they are `cacheFor` old.
  void refresh(Clock::time_point now) {
    if (!facts_.fresh(now, options_.cacheFor)) {
      try {
        facts_.value = os_.probe();
      } catch (...) {
        // Keep the last facts: a snapshot never throws for what it cannot read.
      }
      facts_.at = now;
      facts_.valid = true;
    }
    if (!counters_.fresh(now, options_.cacheFor)) {
      KernelCounters counters;
      if (os_.kernelCounters(counters)) counters_.value.counters = std::move(counters);
      counters_.value.recorded = readRecordedReservations();  // the state file and sysfs counts, as cached
      counters_.at = now;
      counters_.valid = true;
    }
  }

  struct Reading {
    ProcessUsage usage;
    os::Status status;
    std::vector<PreloadAllocationStats> preload;
    bool underPreload = false;
  };

  Reading read(std::int64_t pid, std::size_t minMappingBytes) {
    Reading out;
    out.status = os_.processUsage(pid, minMappingBytes, out.usage);
    if (pid == 0 || !out.status) return out;
    constexpr std::size_t kMax = published::bytesFor(published::kSlots);
    std::string first;
    std::string again;
    if (os_.readPublishedRecords(pid, published::kPublishedRecordsName, kMax, first) &&
        os_.readPublishedRecords(pid, published::kPublishedRecordsName, kMax, again)) {
      out.underPreload = true;
      out.preload = monitoring::parsePublishedRecords(first, again);
    }
    return out;
  }

  // A process's reading, at most `cacheFor` old. Read outside the lock: it is the slow part.
  Reading cachedReading(std::int64_t pid, std::size_t minMappingBytes, Clock::time_point now) {
    {
      std::lock_guard lock(mutex_);
      auto found = usage_.find(pid);
      if (found != usage_.end() && found->second.fresh(now, options_.cacheFor)) return found->second.value;
    }
    Reading fresh = read(pid, minMappingBytes);
    std::lock_guard lock(mutex_);
    auto& slot = usage_[pid];
    slot = {now, true, fresh};
    return fresh;
  }

  ProcessUsage usageOf(std::int64_t pid, std::size_t minMappingBytes, Clock::time_point now) {
    return cachedReading(pid, minMappingBytes, now).usage;
  }

  ProcessStats watchedProcess(std::int64_t pid, const MachineFacts& facts, Clock::time_point now) {
    const ThpInfo& thp = facts.thp;
    const Reading reading = cachedReading(pid, options_.minMappingBytes, now);
    if (!reading.status) {
      ProcessStats gone;
      gone.pid = pid;
      gone.health = Health::Red;
      gone.error = "cannot read process " + std::to_string(pid) + ": " + os::describe(reading.status);
      gone.reason = gone.error;
      return gone;
    }
    ProcessStats out = monitoring::processStats(reading.usage, thp, options_.minMappingBytes, facts.basePageSize);
    out.pid = pid;
    out.underPreload = reading.underPreload;
    out.preload = reading.preload;
    monitoring::measurePreloadRecords(out.preload, reading.usage, thp, facts.basePageSize);
    return out;
  }

  MonitorOptions options_;
  os::Platform& os_;
  mutable std::mutex mutex_;
  Cached<MachineFacts> facts_;
  struct KernelReading {
    KernelCounters counters;
    std::vector<RecordedReservation> recorded;
  };
  Cached<KernelReading> counters_;
  std::map<std::int64_t, Cached<Reading>> usage_;
  std::vector<std::int64_t> watched_;
  std::optional<BandwidthMatrix> bandwidth_;
  double hashrate_ = 0;
};

Monitor::Monitor(MonitorOptions options) : impl_(std::make_unique<Impl>(options)) {}
Monitor::~Monitor() = default;
void Monitor::watch(std::int64_t pid) { impl_->watch(pid); }
void Monitor::unwatch(std::int64_t pid) { impl_->unwatch(pid); }
std::vector<std::int64_t> Monitor::watched() const { return impl_->watched(); }
Snapshot Monitor::snapshot() { return impl_->snapshot(); }
void Monitor::setBandwidth(BandwidthMatrix matrix) { impl_->setBandwidth(std::move(matrix)); }
void Monitor::setRandomxHashrate(double hashesPerSecond) { impl_->setRandomxHashrate(hashesPerSecond); }

std::size_t Monitor::trimPools() { return trimLivePools(); }

std::vector<AllocationStats> allocationStatistics() {
  ProcessUsage self;
  (void)os::current().processUsage(0, 0, self);  // without it, THP reads as not measured (0)
  ThpInfo thp;
  try {
    thp = os::current().probe().thp;
  } catch (...) {
  }
  MachineFacts facts;
  facts.thp = thp;
  return allocationStatisticsFrom(self.mappings, facts);
}

std::vector<PoolNodeStats> poolStatistics() {
  std::vector<PoolNodeStats> out;
  for (const auto& listed : livePoolStats()) out.push_back(poolNodeStats(listed));
  return out;
}

RandomxBandwidthEstimate estimateRandomxBandwidth(double hashesPerSecond) noexcept {
  constexpr double kBytesPerHash = 64.0 * 2048 * 8;  // one dataset line per iteration, 2048 x 8 programs
  return {hashesPerSecond, hashesPerSecond * kBytesPerHash};
}

}  // namespace xmem
