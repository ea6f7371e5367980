#include <xmem/error.h>
#include <xmem/planner.h>
#include <xmem/types.h>


#include <algorithm>
#include <functional>
#include <map>
#include <numeric>

namespace xmem {
namespace {

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
  // Whole 2 MiB blocks, as a MemoryPool rounds its capacity.
  return scratchpads == 0 ? 0 : alignUp(std::max<std::size_t>(scratchpads, options.poolPages * kHugePageSize), kHugePageSize);
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
    return std::all_of(node.pages.begin(), node.pages.end(), [](const PageNeed& need) { return need.missing == 0; });
  });
}

std::uint64_t NodeRequirement::need(std::size_t pageSize) const noexcept {
  for (const auto& entry : pages)
    if (entry.pageSize == pageSize) return entry.need;
  return 0;
}

std::uint64_t NodeRequirement::missing(std::size_t pageSize) const noexcept {
  for (const auto& entry : pages)
    if (entry.pageSize == pageSize) return entry.missing;
  return 0;
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

// The explicit huge pages one mapping of `bytes` takes, by the cascade's own rule.
std::vector<PageCount> pagesOf(std::size_t bytes, bool hugePages, bool oneGbPages, const SystemInfo& machine) {
  VirtualMemoryOptions mapping;
  mapping.size = bytes;
  mapping.hugePages = hugePages;
  mapping.oneGbPages = hugePages && oneGbPages;
  return bytes == 0 || !hugePages ? std::vector<PageCount>{} : VirtualMemory::hugePagesFor(mapping, machine);
}

std::vector<PageCount> times(std::vector<PageCount> pages, unsigned count) {
  for (auto& entry : pages) entry.pages *= count;
  return pages;
}

// Every part's pages, one entry per size, largest first, with what is free on the node.
std::vector<PageNeed> needsOf(const NodeRequirement& node, const SystemInfo& machine) {
  std::map<std::size_t, std::uint64_t, std::greater<>> bySize;
  for (const auto* part : {&node.datasetPages, &node.cachePages, &node.poolPages, &node.jitPages})
    for (const auto& entry : *part) bySize[entry.pageSize] += entry.pages;
  std::vector<PageNeed> needs;
  for (auto [pageSize, pages] : bySize) {
    PageNeed need;
    need.pageSize = pageSize;
    need.need = pages;
    // Where the OS keeps no pool (Windows), nothing can be free or reserved beforehand.
    if (machine.hugePagePool) {
      need.counts = countsOn(machine, pageSize, node.node);
      need.missing = pages > need.counts.free ? pages - need.counts.free : 0;
    }
    needs.push_back(need);
  }
  return needs;
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
  // Each part is its own mapping (or pool), so each is laid out, and rounds up, by itself; the
  // JIT code is one mapping per thread, as ProfileAllocation makes them.
  node.datasetPages = pagesOf(node.dataset, options.hugePages, oneGb, machine);
  node.cachePages = pagesOf(node.cache, options.hugePages, false, machine);
  node.poolPages = pagesOf(scratchpadPoolBytes(options, node.scratchpads), options.hugePages, false, machine);
  node.jitPages = times(pagesOf(profile.jitSize, jitOnHugePages(options), false, machine), threads);
  node.pages = needsOf(node, machine);
  return node;
}

}  // namespace

MemoryPlan planMemory(const MemoryProfile& profile, const PlanOptions& options, const Topology& topology,
                      const SystemInfo& machine) {
  if (options.threads == 0) throw Error(ErrorCode::InvalidArgument, "threads 0: expected at least 1 worker thread");
  MemoryPlan plan;
  plan.profile = &profile;
  plan.options = options;
  plan.hugePagePool = machine.hugePagePool;

  // Light mode hashes from the cache alone, so no node gets a dataset.
  const bool light = options.randomxLight && profile.family == "randomx";
  const std::size_t datasetSize = light ? 0 : profile.datasetSize;
  if (light)
    plan.notes.push_back("RandomX light mode: no dataset, only the " + formatBytes(profile.cacheSize) +
                         " cache on each node (hashing is several times slower than fast mode)");
  else if (options.randomxLight)
    plan.notes.push_back("RandomX light mode does not apply to " + profile.name + ": planned as it is");
  const bool oneGb = options.hugePages && options.oneGbPages && profile.datasetOnOneGbPages && datasetSize != 0;
  if (oneGb && (!machine.cpuHasOneGbPages || machine.hugePages(kOneGbPageSize) == nullptr)) {
    // Why, in the machine's terms: x86-64 needs the CPU flag and the kernel's pool; arm64's 1 GiB
    // pages depend on the base page size (none with 64 KiB base pages).
    const std::string why = machine.basePageSize != 4 * KiB
                                ? "with " + formatBytes(machine.basePageSize) + " base pages this kernel has no 1 GiB pages"
                            : !machine.cpuHasOneGbPages ? "this CPU has no 1 GiB pages"
                                                        : "this kernel offers no 1 GiB pages (boot with hugepagesz=1G)";
    plan.notes.push_back(why + ": the dataset is planned on the smaller huge pages it offers");
  }

  const auto shares = spread(options.threads, workerWeights(options, topology));
  for (std::size_t i = 0; i < shares.size(); ++i) {
    if (shares[i] == 0) continue;  // like XMRig: no dataset on a node without workers
    auto node = requirementOf(topology.nodes()[i], shares[i], datasetSize, oneGb, profile, options, topology, machine);
    // Largest pages first: they need long runs of free memory, which smaller reservations break up.
    for (const auto& need : node.pages)
      if (need.missing != 0) plan.missing.push_back(missingOn(node.node, need.pageSize, need.missing, need.counts.total));
    plan.nodes.push_back(std::move(node));
  }
  // What the dataset is mapped with: 1 GiB (or larger) pages only where its layout takes some.
  plan.options.oneGbPages = std::any_of(plan.nodes.begin(), plan.nodes.end(), [](const NodeRequirement& node) {
    return std::any_of(node.datasetPages.begin(), node.datasetPages.end(),
                       [](const PageCount& pages) { return pages.pageSize >= kOneGbPageSize; });
  });
  if (std::any_of(plan.missing.begin(), plan.missing.end(), [](const MissingPages& missing) { return missing.pageSize >= kOneGbPageSize; }))
    plan.notes.push_back("if the kernel cannot find free 1 GiB pages at run time (memory fragmented), reserve them at "
                         "boot: hugepagesz=1G hugepages=N on the kernel command line");
  if (options.hugePages && !machine.largePageRight.usable())
    plan.notes.push_back("large pages need \"Lock pages in memory\", which is " +
                         std::string(toString(machine.largePageRight.state)) +
                         " for this account: without it every part falls back to base pages (xmem info says what to do)");
  if (!machine.hugePagePool && options.hugePages)
    plan.notes.push_back("this OS keeps no huge page pool: large pages come from free memory when the memory is "
                         "allocated, so nothing is reserved beforehand; start early after boot, before memory fragments");
  if (!options.hugePages)
    plan.notes.push_back("huge pages off: nothing to reserve; transparent huge pages still apply where the kernel allows");
  return plan;
}

}  // namespace xmem
