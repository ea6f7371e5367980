// The history ring: samples are built from a snapshot before the lock is taken, so the lock only
// guards a swap and a readout never waits for an allocation (under the preload library every
// allocation may go through xmem itself).
#include "server/history.h"

#include "monitor/exposition_values.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>

namespace xmem::server {
namespace {

std::uint64_t counter(const KernelMemoryStats& kernel, const std::string& name) {
  auto found = kernel.counters.find(name);
  return found == kernel.counters.end() ? 0 : found->second;
}

// Free base pages of a zone: a block of order k holds 2^k pages.
std::uint64_t freePages(const NodeFragmentation& zone) {
  std::uint64_t pages = 0;
  for (std::size_t order = 0; order < zone.freeBlocksByOrder.size(); ++order)
    pages += zone.freeBlocksByOrder[order] << order;
  return pages;
}

// One entry per node: the blocks of all its zones, and the index of the zone with the most free
// memory (the small DMA zones would otherwise decide what a node's index looks like).
std::vector<HistorySample::Node> nodesOf(const KernelMemoryStats& kernel) {
  std::vector<HistorySample::Node> nodes;
  std::vector<std::uint64_t> largestZone;
  for (const auto& zone : kernel.fragmentation) {
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const auto& n) { return n.node == zone.node; });
    if (it == nodes.end()) {
      nodes.push_back({zone.node, 0, 0});
      largestZone.push_back(0);
      it = nodes.end() - 1;
    }
    auto index = static_cast<std::size_t>(it - nodes.begin());
    it->hugePageBlocks += zone.hugePageBlocks;
    if (auto pages = freePages(zone); pages >= largestZone[index]) {
      largestZone[index] = pages;
      it->unusableFreeIndex = zone.unusableFreeIndex;
    }
  }
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  return nodes;
}

HistorySample::Process processOf(const ProcessStats& process) {
  std::uint64_t huge = 0;
  std::uint64_t all = 0;
  for (const auto& part : process.parts) {
    all += part.bytes;
    if (part.backing != Backing::Base) huge += part.bytes;
  }
  double fraction = all == 0 ? 0.0 : static_cast<double>(huge) / static_cast<double>(all);
  return {process.pid, process.residentBytes, fraction};
}

HistorySample sampleOf(const Snapshot& snapshot) {
  HistorySample sample;
  sample.at = snapshot.takenAt;
  sample.pools.reserve(snapshot.pools.size());
  for (const auto& pool : snapshot.pools)
    sample.pools.push_back({pool.pool, pool.node, pool.capacityBytes, pool.inUseBytes, pool.fragmentation});
  sample.nodes = nodesOf(snapshot.kernel);
  sample.thpFaultFallback = counter(snapshot.kernel, "thp_fault_fallback");
  sample.compactFail = counter(snapshot.kernel, "compact_fail");
  sample.processes.reserve(snapshot.processes.size() + 1);
  sample.processes.push_back(processOf(snapshot.self));
  for (const auto& process : snapshot.processes) sample.processes.push_back(processOf(process));
  return sample;
}

// UTC with milliseconds, as the snapshot's JSON spells times ("2026-12-02T06:50:23.123Z").
std::string isoTime(std::chrono::system_clock::time_point at) {
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string result(text, length);
  auto fraction = std::to_string(1000 + millis % 1000);  // "1123": the leading 1 keeps the zeros
  return result + "." + fraction.substr(1) + "Z";
}

nlohmann::ordered_json sampleJson(const HistorySample& sample) {
  nlohmann::ordered_json pools = nlohmann::ordered_json::array();
  for (const auto& pool : sample.pools)
    pools.push_back({{"pool", pool.pool}, {"node", pool.node}, {"capacity_bytes", pool.capacityBytes},
                     {"in_use_bytes", pool.inUseBytes}, {"fragmentation", pool.fragmentation}});
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const auto& node : sample.nodes)
    nodes.push_back({{"node", node.node}, {"huge_page_blocks", node.hugePageBlocks},
                     {"unusable_free_index", node.unusableFreeIndex}});
  nlohmann::ordered_json processes = nlohmann::ordered_json::array();
  for (const auto& process : sample.processes)
    processes.push_back({{"pid", process.pid}, {"resident_bytes", process.residentBytes},
                         {"huge_fraction", process.hugeFraction}});
  // "at" and "at_unix_seconds", as the snapshot's JSON spells its times.
  return {{"at", isoTime(sample.at)}, {"at_unix_seconds", exposition::unixSeconds(sample.at)}, {"pools", pools},
          {"nodes", nodes},           {"thp_fault_fallback", sample.thpFaultFallback},
          {"compact_fail", sample.compactFail}, {"processes", processes}};
}

}  // namespace

History::History(std::size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw std::invalid_argument("History capacity 0: it must hold at least one sample");
  ring_.reserve(capacity);
}

void History::record(const Snapshot& snapshot) {
  // After the swap `sample` holds the oldest sample, freed here once the lock is let go.
  HistorySample sample = sampleOf(snapshot);
  std::lock_guard lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(sample));  // never reallocates: reserved in the constructor
    return;
  }
  std::swap(ring_[next_], sample);
  next_ = (next_ + 1) % capacity_;
}

std::vector<HistorySample> History::samples() const {
  std::lock_guard lock(mutex_);
  std::vector<HistorySample> ordered;
  ordered.reserve(ring_.size());
  // Until the ring is full next_ stays 0 and the order is the insertion order.
  for (std::size_t i = 0; i < ring_.size(); ++i) ordered.push_back(ring_[(next_ + i) % ring_.size()]);
  return ordered;
}

std::string historyJson(const History& history) {
  nlohmann::ordered_json samples = nlohmann::ordered_json::array();
  for (const auto& sample : history.samples()) samples.push_back(sampleJson(sample));
  nlohmann::ordered_json document = {
      {"schema_version", kSnapshotSchemaVersion}, {"capacity", history.capacity()}, {"samples", samples}};
  return document.dump();
}

}  // namespace xmem::server
