#include <xmem/error.h>
#include <xmem/planner.h>
#include <xmem/types.h>


#include <algorithm>
#include <numeric>

namespace xmem {
namespace {

std::uint64_t pagesFor(std::size_t bytes, std::size_t pageSize) { return (bytes + pageSize - 1) / pageSize; }

// Largest-remainder split of `threads` over nodes in proportion to `weights`.
std::vector<unsigned> spread(unsigned threads, const std::vector<std::size_t>& weights) {
  // Weights are CPU counts (at least 1 for a node that takes workers, 0 for one that does not).
  const std::size_t total = std::accumulate(weights.begin(), weights.end(), std::size_t{0});
  std::vector<unsigned> shares(weights.size(), 0);
  std::vector<std::pair<double, std::size_t>> remainders;
  unsigned given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(threads) * static_cast<double>(weights[i]) / static_cast<double>(total);
    shares[i] = static_cast<unsigned>(exact);
    given += shares[i];
    remainders.emplace_back(exact - shares[i], i);
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < threads; ++i) {
    const auto node = remainders[i % remainders.size()].second;
    if (weights[node] == 0) continue;
    ++shares[node];
    ++given;
  }
  return shares;
}

HugePageCounts countsOn(const SystemInfo& machine, std::size_t pageSize, std::uint32_t node) {
  const auto* size = machine.hugePages(pageSize);
  if (size == nullptr) return {};
  auto found = size->nodes.find(node);
  return found == size->nodes.end() ? HugePageCounts{} : found->second;
}

MissingPages missingOn(std::uint32_t node, std::size_t pageSize, std::uint64_t more, std::uint64_t total) {
  return {.pageSize = pageSize, .node = node, .pages = more, .total = total + more, .countFile = hugePageCountFile(pageSize, node)};
}

}  // namespace

bool jitOnHugePages(const PlanOptions& options) noexcept { return options.hugePages && options.jitHugePages; }

std::size_t scratchpadPoolBytes(const PlanOptions& options, std::size_t scratchpads) noexcept {
  return scratchpads == 0 ? 0 : std::max<std::size_t>(scratchpads, options.poolPages * kHugePageSize);
}

std::size_t MemoryPlan::total() const noexcept {
  std::size_t bytes = 0;
  for (const auto& node : nodes) bytes += node.total();
  return bytes;
}

std::size_t MemoryPlan::shared() const noexcept {
  std::size_t bytes = 0;
  for (const auto& node : nodes) bytes += node.shared();
  return bytes;
}

bool MemoryPlan::satisfied() const noexcept {
  return std::all_of(nodes.begin(), nodes.end(), [](const NodeRequirement& node) {
    return node.missing.oneGbPages == 0 && node.missing.twoMbPages == 0;
  });
}

namespace {

// Only the chosen nodes take workers; without NUMA, the first of them takes them all.
std::vector<std::size_t> workerWeights(const PlanOptions& options, const Topology& topology) {
  for (auto id : options.nodes)
    if (!topology.has(id)) throw Error(ErrorCode::InvalidArgument, "node " + std::to_string(id) + " does not exist on this machine", {.node = id});
  std::vector<std::size_t> weights;
  bool first = true;
  for (const auto& node : topology.nodes()) {
    const bool chosen = options.nodes.empty() ||
                        std::find(options.nodes.begin(), options.nodes.end(), node.id) != options.nodes.end();
    const bool takes = chosen && (options.numa || first);
    if (chosen) first = false;
    weights.push_back(takes ? std::max<std::size_t>(node.cpus.size(), 1) : 0);
  }
  return weights;
}

// What one node with `threads` workers needs, and how much of it is not free there now.
NodeRequirement requirementOf(const Topology::Node& where, unsigned threads, std::size_t datasetSize, bool oneGb,
                              const MemoryProfile& profile, const PlanOptions& options, const Topology& topology,
                              const SystemInfo& machine) {
  NodeRequirement node;
  node.node = where.id;
  node.threads = threads;
  node.cpus = where.cpus;
  for (auto other : topology.nearestNodes(node.node)) node.fallback.push_back({other, topology.distance(node.node, other)});
  node.dataset = datasetSize;
  node.cache = profile.cacheSize;
  node.scratchpads = std::size_t{threads} * profile.scratchpadSize;
  node.jit = std::size_t{threads} * profile.jitSize;
  // One JIT mapping per thread, as ProfileAllocation makes them: a huge page each, or none.
  const std::uint64_t jitPages = jitOnHugePages(options) ? threads * pagesFor(profile.jitSize, kHugePageSize) : 0;
  if (options.hugePages) {
    const std::size_t onGigabytePages = oneGb ? alignDown(node.dataset, kOneGbPageSize) : 0;
    node.need.oneGbPages = onGigabytePages / kOneGbPageSize;
    // Each part is its own mapping (or pool), so each rounds up to whole pages by itself.
    node.need.twoMbPages = pagesFor(node.dataset - onGigabytePages, kHugePageSize) + pagesFor(node.cache, kHugePageSize) +
                           pagesFor(scratchpadPoolBytes(options, node.scratchpads), kHugePageSize) + jitPages;
  }
  node.free1G = countsOn(machine, kOneGbPageSize, node.node);
  node.free2M = countsOn(machine, kHugePageSize, node.node);
  node.missing.oneGbPages = node.need.oneGbPages > node.free1G.free ? node.need.oneGbPages - node.free1G.free : 0;
  node.missing.twoMbPages = node.need.twoMbPages > node.free2M.free ? node.need.twoMbPages - node.free2M.free : 0;
  return node;
}

}  // namespace

MemoryPlan planMemory(const MemoryProfile& profile, const PlanOptions& options, const Topology& topology,
                      const SystemInfo& machine) {
  if (options.threads == 0) throw Error(ErrorCode::InvalidArgument, "threads 0: expected at least 1 worker thread");
  MemoryPlan plan;
  plan.profile = &profile;
  plan.options = options;

  // Light mode hashes from the cache alone, so no node gets a dataset.
  const bool light = options.randomxLight && profile.family == "randomx";
  const std::size_t datasetSize = light ? 0 : profile.datasetSize;
  if (light)
    plan.notes.push_back("RandomX light mode: no dataset, only the " + formatBytes(profile.cacheSize) +
                         " cache on each node (hashing is several times slower than fast mode)");
  else if (options.randomxLight)
    plan.notes.push_back("RandomX light mode does not apply to " + profile.name + ": planned as it is");
  bool oneGb = options.hugePages && options.oneGbPages && profile.datasetOnOneGbPages && datasetSize >= kOneGbPageSize;
  if (oneGb && (!machine.cpuHasOneGbPages || machine.hugePages(kOneGbPageSize) == nullptr)) {
    oneGb = false;
    plan.notes.push_back(!machine.cpuHasOneGbPages ? "this CPU has no 1 GiB pages: the dataset is planned on 2 MiB pages"
                                                   : "this kernel offers no 1 GiB pages (boot with hugepagesz=1G): the "
                                                     "dataset is planned on 2 MiB pages");
  }
  plan.options.oneGbPages = oneGb;

  const auto shares = spread(options.threads, workerWeights(options, topology));
  for (std::size_t i = 0; i < shares.size(); ++i) {
    if (shares[i] == 0) continue;  // like XMRig: no dataset on a node without workers
    auto node = requirementOf(topology.nodes()[i], shares[i], datasetSize, oneGb, profile, options, topology, machine);
    // 1 GiB pages first: they need long runs of free memory, which 2 MiB reservations break up.
    if (node.missing.oneGbPages != 0)
      plan.missing.push_back(missingOn(node.node, kOneGbPageSize, node.missing.oneGbPages, node.free1G.total));
    if (node.missing.twoMbPages != 0)
      plan.missing.push_back(missingOn(node.node, kHugePageSize, node.missing.twoMbPages, node.free2M.total));
    plan.nodes.push_back(std::move(node));
  }
  if (oneGb && !plan.satisfied())
    plan.notes.push_back("if the kernel cannot find free 1 GiB pages at run time (memory fragmented), reserve them at "
                         "boot: hugepagesz=1G hugepages=N on the kernel command line");
  if (!options.hugePages)
    plan.notes.push_back("huge pages off: nothing to reserve; transparent huge pages still apply where the kernel allows");
  return plan;
}

}  // namespace xmem
