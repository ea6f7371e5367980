#include <xmem/error.h>
#include <xmem/system_info.h>
#include <xmem/topology.h>

#include "os/os.h"
#include "machine/machine_locks.h"
#include "machine/platform_cache.h"
#include "machine/topology_hwloc.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace xmem {

Topology::Topology(std::vector<Node> nodes, std::vector<std::vector<std::uint32_t>> distances)
    : nodes_(std::move(nodes)), distances_(std::move(distances)) {
  if (nodes_.empty()) throw Error(ErrorCode::InvalidArgument, "a topology needs at least one node");
  std::set<std::uint32_t> ids;
  for (const auto& node : nodes_)
    if (!ids.insert(node.id).second)
      throw Error(ErrorCode::InvalidArgument, "node " + std::to_string(node.id) + " appears twice in the topology");
  if (distances_.size() != nodes_.size())
    throw Error(ErrorCode::InvalidArgument, "the distance matrix has " + std::to_string(distances_.size()) +
                                                " rows for " + std::to_string(nodes_.size()) + " nodes");
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (distances_[i].size() != nodes_.size())
      throw Error(ErrorCode::InvalidArgument, "row " + std::to_string(i) + " of the distance matrix has " +
                                                  std::to_string(distances_[i].size()) + " entries for " +
                                                  std::to_string(nodes_.size()) + " nodes");
    for (std::size_t j = 0; j < nodes_.size(); ++j)
      if (j != i && distances_[i][j] < distances_[i][i])
        throw Error(ErrorCode::InvalidArgument, "node " + std::to_string(nodes_[i].id) + " is nearer to node " +
                                                    std::to_string(nodes_[j].id) + " than to itself");
  }
  // Nodes in id order, whatever order the source gives (hwloc lists them by locality: 0, 1, 3, 2).
  std::vector<std::size_t> byId(nodes_.size());
  std::iota(byId.begin(), byId.end(), 0);
  std::sort(byId.begin(), byId.end(), [&](std::size_t a, std::size_t b) { return nodes_[a].id < nodes_[b].id; });
  std::vector<Node> sortedNodes;
  std::vector<std::vector<std::uint32_t>> sortedDistances;
  for (auto i : byId) {
    sortedNodes.push_back(std::move(nodes_[i]));
    auto& row = sortedDistances.emplace_back();
    for (auto j : byId) row.push_back(distances_[i][j]);
  }
  nodes_ = std::move(sortedNodes);
  distances_ = std::move(sortedDistances);
  nearest_.resize(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<std::size_t> order(nodes_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return distances_[i][a] != distances_[i][b] ? distances_[i][a] < distances_[i][b] : nodes_[a].id < nodes_[b].id;
    });
    for (auto j : order)
      if (j != i) nearest_[i].push_back(nodes_[j].id);
  }
}

Topology Topology::fromDistances(const std::vector<std::uint32_t>& ids, std::vector<std::vector<std::uint32_t>> distances) {
  std::vector<Node> nodes;
  for (auto id : ids) nodes.push_back({id, {}, 0});
  return Topology(std::move(nodes), std::move(distances));
}

namespace {
XMEM_CACHE_CONSTINIT NeverDestroyed<PlatformCache<Topology>> topologyStorage;
XMEM_CACHE_CONSTINIT PlatformCache<Topology>& topologyCache = topologyStorage.value;
}  // namespace

void lockTopologyCache() noexcept { topologyCache.lock(); }
void unlockTopologyCache() noexcept { topologyCache.unlock(); }

// A test that installs another platform gets a topology read under it.
std::shared_ptr<const Topology> Topology::get() {
  return topologyCache.get([] { return fromSystem(); });
}

Topology Topology::fromSystem() {
  // hwloc first; the kernel's own files when hwloc cannot tell.
  if (auto found = topologyFromHwloc()) return std::move(*found);
  return fromKernel();
}

Topology Topology::fromKernel() {
  auto info = SystemInfo::get();
  std::vector<Node> nodes;
  std::vector<std::vector<std::uint32_t>> distances;
  for (const auto& node : info->nodes) {
    nodes.push_back({node.id, node.cpus, node.memoryTotal});
    std::vector<std::uint32_t> row = node.distances;
    if (row.size() != info->nodes.size()) {
      // No distances published: local 10, everything else 20 (the kernel's defaults).
      row.assign(info->nodes.size(), 20);
      row[distances.size()] = 10;
    }
    distances.push_back(std::move(row));
  }
  return Topology(std::move(nodes), std::move(distances));
}

bool Topology::has(std::uint32_t id) const noexcept {
  return std::any_of(nodes_.begin(), nodes_.end(), [&](const Node& node) { return node.id == id; });
}

std::size_t Topology::indexOf(std::uint32_t id) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].id == id) return i;
  std::string known;
  for (const auto& node : nodes_) known += (known.empty() ? "" : ", ") + std::to_string(node.id);
  throw Error(ErrorCode::InvalidArgument, "node " + std::to_string(id) + " does not exist: the nodes are " + known,
              {.node = id});
}

std::uint32_t Topology::distance(std::uint32_t from, std::uint32_t to) const {
  return distances_[indexOf(from)][indexOf(to)];
}

std::optional<std::uint32_t> Topology::nodeOfCpu(std::uint32_t cpu) const noexcept {
  for (const auto& node : nodes_)
    if (std::find(node.cpus.begin(), node.cpus.end(), cpu) != node.cpus.end()) return node.id;
  return std::nullopt;
}

ThreadBinding bindThreadToCpu(std::uint32_t cpu, bool pinToCpu, const Topology& topology) {
  ThreadBinding binding;
  binding.cpu = cpu;
  auto node = topology.nodeOfCpu(cpu);
  if (!node) throw Error(ErrorCode::InvalidArgument, "CPU " + std::to_string(cpu) + " is on no NUMA node of this topology");
  binding.node = *node;
  auto& os = os::current();
  if (auto status = os.bindThreadMemory({os::nodeLocalPolicy(), NodeSet::single(*node)}); status)
    binding.memoryBound = true;
  else
    binding.error = "binding the thread's memory to node " + std::to_string(*node) + " failed: " +
                    os::describe(status);
  if (pinToCpu) {
    if (auto status = os.pinThread(cpu); status)
      binding.cpuPinned = true;
    else
      binding.error += (binding.error.empty() ? "" : "; ") + std::string("pinning the thread to CPU ") +
                       std::to_string(cpu) + " failed: " + os::describe(status);
  }
  return binding;
}

const std::vector<std::uint32_t>& Topology::nearestNodes(std::uint32_t from) const { return nearest_[indexOf(from)]; }

}  // namespace xmem
