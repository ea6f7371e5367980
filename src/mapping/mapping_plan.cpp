#include "mapping/mapping_plan.h"

#include <algorithm>

namespace xmem {
namespace {

void append(Plan& plan, PageKind kind, std::size_t pageSize, std::size_t length) {
  plan.segments.push_back({kind, pageSize, plan.length(), length});
}

std::string pages(std::uint64_t count, std::size_t pageSize) {
  return std::to_string(count) + " x " + formatBytes(pageSize);
}

}  // namespace

std::size_t Plan::largestPageSize() const noexcept {
  std::size_t largest = 0;
  for (const auto& segment : segments) largest = std::max(largest, segment.pageSize);
  return largest;
}

Plan planMapping(const PlanInput& input) {
  Plan plan;
  auto sizes = input.hugePages;
  std::sort(sizes.begin(), sizes.end(), [](const auto& a, const auto& b) { return a.pageSize > b.pageSize; });

  const std::string onNode = input.countedNode ? " on node " + std::to_string(*input.countedNode) : "";
  std::size_t remaining = input.size;
  for (std::size_t i = 0; i < sizes.size() && remaining > 0; ++i) {
    const auto& candidate = sizes[i];
    const std::size_t pageSize = candidate.pageSize;
    const bool smallest = i + 1 == sizes.size();
    // Larger sizes take whole pages only; the smallest huge size rounds the rest up (wasting less
    // than one of its pages). Rounding 2080 MiB up to 3 GiB of 1 GiB pages is what we avoid.
    std::uint64_t wanted = smallest || !input.mixSizes ? (remaining + pageSize - 1) / pageSize : remaining / pageSize;
    // Where sizes cannot mix (Windows), a size covers all or nothing: it rounds up only where that
    // wastes less than an eighth, or, as the last size left, less than one 2 MiB page (a 64 MiB
    // request never takes a 1 GiB page because 2 MiB pages failed).
    const std::size_t waste = static_cast<std::size_t>(wanted * pageSize) - remaining;
    if (!input.mixSizes && waste > remaining / 8 && (!smallest || waste >= kHugePageSize)) {
      plan.decisions.push_back(formatBytes(pageSize) + " pages: skipped, " + formatBytes(remaining) + " would take " +
                               pages(wanted, pageSize) + " (" + formatBytes(waste) +
                               " unused: this platform cannot mix page sizes)");
      continue;
    }
    if (wanted == 0) {
      plan.decisions.push_back(formatBytes(pageSize) + " pages: skipped, " + formatBytes(remaining) +
                               " is less than one page");
      continue;
    }
    std::uint64_t taken = std::min(wanted, candidate.availablePages);
    const bool wholeNeeded = !input.partial || !input.mixSizes;
    if (taken < wanted && wholeNeeded) {
      plan.decisions.push_back(formatBytes(pageSize) + " pages: " + std::to_string(candidate.availablePages) +
                               " free" + onNode + ", " + std::to_string(wanted) + " needed, " +
                               (input.mixSizes ? "partial use is off" : "this platform cannot mix page sizes"));
      continue;
    }
    if (taken == 0) {
      plan.decisions.push_back(formatBytes(pageSize) + " pages: none free" + onNode);
      continue;
    }
    plan.decisions.push_back(formatBytes(pageSize) + " pages: " + pages(taken, pageSize) +
                             (taken < wanted ? " (partial: " + std::to_string(wanted) + " needed, " +
                                                   std::to_string(candidate.availablePages) + " free" + onNode + ")"
                                             : ""));
    append(plan, PageKind::HugeTlb, pageSize, static_cast<std::size_t>(taken) * pageSize);
    remaining = remaining > taken * pageSize ? remaining - static_cast<std::size_t>(taken * pageSize) : 0;
    if (!input.mixSizes) break;
  }
  if (remaining == 0) return plan;
  if (!plan.segments.empty() && !input.mixSizes) return plan;

  if (input.transparent && remaining >= input.transparentPageSize) {
    plan.decisions.push_back("transparent huge pages: " + formatBytes(alignUp(remaining, input.transparentPageSize)) +
                             " advised (the kernel decides at first touch)");
    append(plan, PageKind::Transparent, input.transparentPageSize, alignUp(remaining, input.transparentPageSize));
  } else {
    if (input.transparent)
      plan.decisions.push_back("transparent huge pages: skipped, " + formatBytes(remaining) + " is less than one page");
    append(plan, PageKind::Base, input.basePageSize, alignUp(remaining, input.basePageSize));
  }
  return plan;
}

}  // namespace xmem
