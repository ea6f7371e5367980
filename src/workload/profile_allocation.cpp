#include <xmem/profile_allocation.h>

#include "os/os.h"

#include <cstdio>

namespace xmem {
namespace {

void addBreakdown(NodeLayout::Breakdown& out, const AllocationReport& report) {
  for (const auto& segment : report.segments) {
    if (segment.kind == PageKind::HugeTlb) {
      out.hugeTlb[segment.pageSize] += segment.length;
    } else if (segment.kind == PageKind::Base) {
      out.base += segment.length;
    }
  }
  const std::size_t thp = std::min(report.thpVerifiedBytes, report.thpEligibleBytes());
  out.thp += thp;
  out.base += report.thpEligibleBytes() - thp;  // advised but not (yet) huge
}

VirtualMemory mapPart(std::size_t size, const ProfileAllocationOptions& options, bool oneGb, std::uint32_t node,
                      const std::string& part, const ProfileAllocation::Progress& progress) {
  VirtualMemoryOptions mapping;
  mapping.size = size;
  mapping.hugePages = options.plan.hugePages;
  mapping.oneGbPages = oneGb && options.plan.hugePages && options.plan.oneGbPages;
  mapping.transparentHugePages = options.transparentHugePages;
  mapping.node = node;
  mapping.numaPolicy = options.plan.numa ? os::nodeLocalPolicy() : NumaPolicy::None;
  mapping.prefaultThreads = options.prefaultThreads;
  mapping.lock = options.lock;
  mapping.name = "xmem:" + part;
  if (progress) {
    // Quarter steps: enough to see it move, few enough for a log.
    mapping.prefaultProgress = [&progress, node, part, lastQuarter = 0U](std::size_t done, std::size_t total) mutable {
      const auto quarter = static_cast<unsigned>(4 * done / total);
      if (quarter == lastQuarter) return;
      lastQuarter = quarter;
      progress("node " + std::to_string(node) + ": " + part + " " + std::to_string(quarter * 25) + "% faulted in");
    };
  }
  return VirtualMemory(mapping);
}

}  // namespace

std::size_t NodeLayout::Breakdown::hugeTlbBytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& [pageSize, length] : hugeTlb) bytes += length;
  return bytes;
}

std::size_t NodeLayout::Breakdown::hugeTlbBytes(std::size_t pageSize) const noexcept {
  auto found = hugeTlb.find(pageSize);
  return found == hugeTlb.end() ? 0 : found->second;
}

NodeLayout::Breakdown NodeLayout::breakdown() const {
  Breakdown out;
  out.basePageSize = SystemInfo::get()->basePageSize;
  if (dataset) addBreakdown(out, dataset->report());
  if (cache) addBreakdown(out, cache->report());
  return out;
}

std::string NodeLayout::summary() const {
  const std::size_t datasetBytes = dataset ? dataset->size() : 0;
  const std::size_t cacheBytes = cache ? cache->size() : 0;
  std::vector<std::string> parts;
  if (datasetBytes + cacheBytes != 0) {
    const auto pages = breakdown();
    const std::size_t huge = pages.hugeTlbBytes() + pages.thp;
    const std::size_t mapped = huge + pages.base;
    char share[16];
    std::snprintf(share, sizeof share, "%.0f%%", mapped == 0 ? 0.0 : 100.0 * static_cast<double>(huge) / static_cast<double>(mapped));
    std::string shared = formatBytes(datasetBytes + cacheBytes) + " (" + std::to_string(datasetBytes / MiB) + "+" +
                         std::to_string(cacheBytes / MiB) + ") huge " + share + ":";
    for (const auto& [pageSize, bytes] : pages.hugeTlb)
      shared += " " + std::to_string(bytes / pageSize) + " x " + formatBytes(pageSize);
    if (pages.thp != 0) shared += " " + formatBytes(pages.thp) + " THP";
    if (pages.base != 0) shared += " " + formatBytes(pages.base) + " " + formatBytes(pages.basePageSize) + " pages";
    parts.push_back(shared);
  }
  if (!scratchpads.empty())
    parts.push_back("scratchpads " + std::to_string(scratchpads.size()) + " x " + formatBytes(scratchpadSize) +
                    (pool && pool->isHugePages(node) ? " on huge pages"
                                                     : " (THP or " + formatBytes(SystemInfo::get()->basePageSize) + ")"));
  if (!jit.empty()) parts.push_back("JIT " + std::to_string(jit.size()) + " x " + formatBytes(jit.front().size()));
  parts.push_back(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(time).count()) + " ms");
  std::string line = "node " + std::to_string(node) + ": ";
  for (std::size_t i = 0; i < parts.size(); ++i) line += (i == 0 ? "" : "; ") + parts[i];
  return line;
}

ProfileAllocation ProfileAllocation::allocate(const MemoryProfile& profile, const ProfileAllocationOptions& options,
                                              const Topology& topology, const Progress& progress) {
  auto plan = planMemory(profile, options.plan, topology, *SystemInfo::refresh());
  ProfileAllocation allocation;
  allocation.profile_ = &profile;
  for (const auto& need : plan.nodes) {
    const auto started = std::chrono::steady_clock::now();
    NodeLayout layout;
    layout.node = need.node;
    layout.threads = need.threads;
    auto say = [&](const std::string& what) {
      if (progress) progress("node " + std::to_string(need.node) + ": " + what);
    };
    if (need.dataset != 0) {
      say("dataset " + formatBytes(need.dataset) + ", faulting it in");
      layout.dataset.emplace(mapPart(need.dataset, options, profile.datasetOnOneGbPages && plan.options.oneGbPages,
                                     need.node, "dataset", progress));
    }
    if (need.cache != 0) {
      say("cache " + formatBytes(need.cache));
      layout.cache.emplace(mapPart(need.cache, options, false, need.node, "cache", progress));
    }
    if (need.scratchpads != 0) {
      say("scratchpads " + std::to_string(need.threads) + " x " + formatBytes(profile.scratchpadSize));
      MemoryPoolOptions pool;
      pool.capacity = scratchpadPoolBytes(options.plan, need.scratchpads);
      pool.hugePages = options.plan.hugePages;
      pool.transparentHugePages = options.transparentHugePages;
      if (options.plan.numa) pool.node = need.node;
      pool.name = "xmem:scratchpads";
      layout.pool = std::make_shared<MemoryPool>(pool);
      layout.scratchpadSize = profile.scratchpadSize;
      layout.scratchpads.reserve(need.threads);  // so that adopting a chunk cannot throw
      for (unsigned thread = 0; thread < need.threads; ++thread)
        layout.scratchpads.emplace_back(layout.pool, layout.pool->allocate(profile.scratchpadSize), profile.scratchpadSize,
                                        need.node);
    }
    for (unsigned thread = 0; thread < need.threads && profile.jitSize != 0; ++thread) {
      VirtualMemoryOptions jit;
      jit.size = profile.jitSize;
      jit.executable = true;
      // 64 KiB of code: a huge page each costs 2 MiB per thread, so only when asked (the plan
      // counts the pages by the same rule).
      jit.hugePages = jitOnHugePages(options.plan);
      jit.transparentHugePages = options.plan.jitHugePages && options.transparentHugePages;
      if (options.plan.numa) jit.node = need.node;
      layout.jit.emplace_back(jit);
    }
    layout.time = std::chrono::steady_clock::now() - started;
    allocation.nodes_.push_back(std::move(layout));
  }
  return allocation;
}

}  // namespace xmem
