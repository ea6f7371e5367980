#include <xmem/error.h>
#include <xmem/placement.h>
#include <xmem/system_info.h>

#include "machine/os_error.h"
#include "os/os.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

namespace xmem {
namespace {

constexpr std::size_t kPmdSize = 2 * MiB;
constexpr std::size_t kBatch = 4096;

/// One page as the kernel maps it: a hugetlb page, a THP, a base page, or a gap with no mapping.
struct Unit {
  std::uintptr_t address = 0;
  std::size_t length = 0;
  PageKind kind = PageKind::Base;
  std::size_t pageSize = 0;
  bool mapped = true;
};

os::PageSurvey surveyOf(os::Platform& os, const void* address, std::size_t length) {
  os::PageSurvey survey;
  if (auto status = os.survey(address, length, survey); !status)
    throw osFailure(status, "cannot read the page tables of " + formatBytes(length), {.size = length});
  return survey;
}

// Cuts [begin, end) into units, page by page, and hands them on in batches with each unit's node
// (or an os::page_answer: kNotPresent not in memory, kNotMapped not mapped).
class UnitWalker {
 public:
  using Visit = std::function<void(const std::vector<Unit>&, const std::vector<int>&)>;

  UnitWalker(os::Platform& os, const os::PageSurvey& survey, std::size_t basePage)
      : os_(os), survey_(survey), basePage_(basePage) {}

  void walk(std::uintptr_t begin, std::uintptr_t end, const Visit& visit) {
    visit_ = &visit;
    std::uintptr_t cursor = begin;
    auto huge = survey_.hugeRegions.begin();
    for (const auto& area : survey_.areas) {
      if (area.start > cursor) add({cursor, area.start - cursor, PageKind::Base, 0, false});
      cursor = area.start;
      while (cursor < area.end) {
        if (area.hugeTlbPageSize != 0) {
          const auto pageEnd = (cursor / area.hugeTlbPageSize + 1) * area.hugeTlbPageSize;
          const auto stop = std::min<std::uintptr_t>(pageEnd, area.end);
          add({cursor, stop - cursor, PageKind::HugeTlb, area.hugeTlbPageSize, true});
          cursor = stop;
          continue;
        }
        while (huge != survey_.hugeRegions.end() && huge->second <= cursor) ++huge;
        if (huge != survey_.hugeRegions.end() && huge->first <= cursor) {
          const auto stop = std::min<std::uintptr_t>({(cursor / kPmdSize + 1) * kPmdSize, huge->second, area.end});
          add({cursor, stop - cursor, PageKind::Transparent, kPmdSize, true});
          cursor = stop;
          continue;
        }
        // Base pages up to the next huge region or the end of the area.
        const auto stop = std::min<std::uintptr_t>(area.end, huge != survey_.hugeRegions.end() ? huge->first : area.end);
        for (; cursor < stop; cursor += basePage_)
          add({cursor, std::min<std::uintptr_t>(basePage_, stop - cursor), PageKind::Base, basePage_, true});
      }
    }
    if (cursor < end) add({cursor, end - cursor, PageKind::Base, 0, false});
    flush();
  }

 private:
  void add(const Unit& unit) {
    units_.push_back(unit);
    if (units_.size() == kBatch) flush();
  }
  void flush() {
    if (units_.empty()) return;
    std::vector<const void*> addresses;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < units_.size(); ++i) {
      if (!units_[i].mapped) continue;
      addresses.push_back(reinterpret_cast<const void*>(units_[i].address));
      positions.push_back(i);
    }
    std::vector<int> found(addresses.size(), os::page_answer::kNotPresent);
    if (!addresses.empty()) {
      if (auto status = os_.pageNodes(addresses.data(), addresses.size(), found.data()); !status)
        throw osFailure(status, "cannot ask the kernel where pages are");
    }
    std::vector<int> nodes(units_.size(), os::page_answer::kNotMapped);
    for (std::size_t i = 0; i < positions.size(); ++i) nodes[positions[i]] = found[i];
    (*visit_)(units_, nodes);
    units_.clear();
  }

  os::Platform& os_;
  const os::PageSurvey& survey_;
  std::size_t basePage_;
  const Visit* visit_ = nullptr;
  std::vector<Unit> units_;
};

std::size_t basePageSize() { return SystemInfo::get()->basePageSize; }

std::string kindName(const PagePart& part) {
  switch (part.kind) {
    case PageKind::HugeTlb: return formatBytes(part.pageSize) + " pages";
    case PageKind::Transparent: return "THP";
    default: return formatBytes(part.pageSize) + " pages";
  }
}

}  // namespace

std::size_t RangeMap::residentBytes() const noexcept {
  std::size_t total = 0;
  for (const auto& part : parts) total += part.node ? part.length : 0;
  return total;
}

std::size_t RangeMap::bytesOf(PageKind kind) const noexcept {
  std::size_t total = 0;
  for (const auto& part : parts) total += part.node && part.kind == kind ? part.length : 0;
  return total;
}

std::map<std::uint32_t, std::size_t> RangeMap::bytesByNode() const {
  std::map<std::uint32_t, std::size_t> nodes;
  for (const auto& part : parts)
    if (part.node) nodes[*part.node] += part.length;
  return nodes;
}

std::string RangeMap::summary() const {
  std::map<std::string, std::size_t> byKind;
  std::size_t absent = 0;
  std::size_t unmapped = 0;
  for (const auto& part : parts) {
    if (!part.mapped) unmapped += part.length;
    else if (!part.node) absent += part.length;
    else byKind[kindName(part)] += part.length;
  }
  std::string text = formatBytes(length) + ":";
  bool first = true;
  for (const auto& [kind, bytes] : byKind) {
    text += (first ? " " : " + ") + formatBytes(bytes) + " " + kind;
    first = false;
  }
  if (absent != 0) text += (first ? " " : " + ") + formatBytes(absent) + " not in memory";
  if (unmapped != 0) text += (first && absent == 0 ? " " : " + ") + formatBytes(unmapped) + " not mapped";
  for (const auto& [node, bytes] : bytesByNode()) text += ", node " + std::to_string(node) + " " + formatBytes(bytes);
  if (!exact)
    text += " (THP cannot be located on this kernel without root; about " + formatBytes(thpBytesEstimate) +
            " of the base pages are THP)";
  return text;
}

RangeMap where(const void* address, std::size_t length) {
  auto& os = os::current();
  const auto survey = surveyOf(os, address, length);
  RangeMap map;
  map.length = length;
  map.exact = survey.hugeKnown;
  if (!map.exact)
    for (const auto& area : survey.areas) map.thpBytesEstimate += area.hugeTlbPageSize == 0 ? area.anonHugeBytes : 0;
  const auto begin = reinterpret_cast<std::uintptr_t>(address);
  UnitWalker walker(os, survey, basePageSize());
  walker.walk(begin, begin + length, [&](const std::vector<Unit>& units, const std::vector<int>& nodes) {
    for (std::size_t i = 0; i < units.size(); ++i) {
      PagePart part;
      part.offset = units[i].address - begin;
      part.length = units[i].length;
      part.kind = units[i].kind;
      part.pageSize = units[i].pageSize;
      part.mapped = units[i].mapped;
      if (nodes[i] >= 0) part.node = static_cast<std::uint32_t>(nodes[i]);
      auto& last = map.parts;
      if (!last.empty() && last.back().offset + last.back().length == part.offset && last.back().node == part.node &&
          last.back().kind == part.kind && last.back().pageSize == part.pageSize && last.back().mapped == part.mapped)
        last.back().length += part.length;
      else
        last.push_back(part);
    }
  });
  return map;
}

PromoteResult promote(void* address, std::size_t length) {
  auto& os = os::current();
  PromoteResult result;
  const auto begin = alignUp(reinterpret_cast<std::uintptr_t>(address), kPmdSize);
  const auto end = alignDown(reinterpret_cast<std::uintptr_t>(address) + length, kPmdSize);
  if (begin >= end) {
    result.message = "nothing to do: " + formatBytes(length) + " holds no whole 2 MiB block, and only those can become huge";
    return result;
  }
  auto* start = reinterpret_cast<void*>(begin);
  const std::size_t span = end - begin;
  const auto survey = surveyOf(os, start, span);
  // From the page tables alone, not where(): where() asks each page's node, and the kernel
  // answers none for a page NUMA balancing has just marked for a hinting fault, THP or not.
  result.hugeBefore = survey.transparentBytes();

  std::string problems;
  // Whether the kernel has MADV_COLLAPSE is probed once by the platform; an error from it here
  // is about the area it was asked for (Invalid: pages it cannot collapse), not about the kernel.
  result.deferred = !os.capabilities().collapseOnRequest;
  for (const auto& area : survey.areas) {
    if (area.hugeTlbPageSize != 0) continue;  // explicit huge pages already
    const auto blockStart = alignUp(area.start, kPmdSize);
    const auto blockEnd = alignDown(area.end, kPmdSize);
    if (blockStart >= blockEnd) continue;
    auto* blocks = reinterpret_cast<void*>(blockStart);
    const std::size_t blockBytes = blockEnd - blockStart;
    result.eligibleBytes += blockBytes;
    // MADV_HUGEPAGE keeps later faults huge and lets khugepaged work on it.
    if (auto advised = os.advise(blocks, blockBytes, os::Advice::HugePages); !advised)
      problems += "; MADV_HUGEPAGE failed: " + os::describe(advised);
    if (result.deferred) continue;
    os::Status collapsed;
    for (unsigned attempt = 0;; ++attempt) {
      collapsed = os.advise(blocks, blockBytes, os::Advice::Collapse);
      if (collapsed.kind != os::Status::Kind::TryAgain || attempt == 4) break;
      ++result.retries;  // pages briefly locked or under writeback: the kernel asks for another try
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
    }
    if (!collapsed)
      problems += "; MADV_COLLAPSE: " + os::describe(collapsed) + " for " + formatBytes(blockBytes) +
                  " at offset " + formatBytes(blockStart - begin);
    result.collapsed = true;  // it ran; part may have failed
  }
  result.hugeAfter = surveyOf(os, start, span).transparentBytes();
  result.message = formatBytes(result.hugeAfter) + " of " + formatBytes(result.eligibleBytes) +
                   " on transparent huge pages (" + formatBytes(result.hugeBefore) + " before)";
  if (result.deferred)
    result.message += "; this kernel cannot collapse on request (MADV_COLLAPSE needs Linux 6.1): the range is "
                      "advised, and khugepaged will collapse it in the background";
  else if (result.collapsed && result.hugeAfter < result.eligibleBytes && problems.empty())
    result.message += "; the rest could not be collapsed now (no free huge page, or pages shared or locked)";
  if (result.eligibleBytes == 0) result.message = "nothing to do: the range is on explicit huge pages or not mapped";
  result.message += problems;
  return result;
}

std::size_t MigrateResult::failed() const noexcept {
  std::size_t total = 0;
  for (const auto& [reason, count] : failedByReason) total += count;
  return total;
}

MigrateResult migrate(void* address, std::size_t length, std::uint32_t node) {
  auto info = SystemInfo::get();
  if (!info->hasNode(node)) {
    std::string nodes;
    for (const auto& known : info->nodes) nodes += (nodes.empty() ? "" : ", ") + std::to_string(known.id);
    throw Error(ErrorCode::InvalidArgument,
                "node " + std::to_string(node) + " does not exist: this machine has node(s) " + nodes, {.node = node});
  }
  auto& os = os::current();
  const auto survey = surveyOf(os, address, length);
  MigrateResult result;
  result.node = node;
  const auto begin = reinterpret_cast<std::uintptr_t>(address);
  UnitWalker walker(os, survey, info->basePageSize);
  walker.walk(begin, begin + length, [&](const std::vector<Unit>& units, const std::vector<int>& nodes) {
    std::vector<void*> toMove;
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < units.size(); ++i) {
      if (!units[i].mapped) continue;
      if (nodes[i] < 0) {
        ++result.notPresent;
        continue;
      }
      ++result.pages;
      if (static_cast<std::uint32_t>(nodes[i]) == node) {
        ++result.alreadyThere;
        continue;
      }
      toMove.push_back(reinterpret_cast<void*>(units[i].address));
      sizes.push_back(units[i].length);
    }
    if (toMove.empty()) return;
    std::vector<int> status(toMove.size(), 0);
    if (auto moved = os.movePages(toMove.data(), toMove.size(), node, status.data()); !moved)
      throw osFailure(moved, "moving pages to node " + std::to_string(node) + " failed", {.node = node});
    // A page moved with its huge page (a THP seen as base pages) may be reported busy: ask again.
    std::vector<const void*> recheck;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < status.size(); ++i)
      if (status[i] < 0) {
        recheck.push_back(toMove[i]);
        positions.push_back(i);
      }
    if (!recheck.empty()) {
      std::vector<int> now(recheck.size(), os::page_answer::kNotPresent);
      if (os.pageNodes(recheck.data(), recheck.size(), now.data()))
        for (std::size_t i = 0; i < now.size(); ++i)
          if (now[i] == static_cast<int>(node)) status[positions[i]] = now[i];
    }
    for (std::size_t i = 0; i < status.size(); ++i) {
      if (status[i] == static_cast<int>(node)) {
        ++result.moved;
        result.bytesMoved += sizes[i];
      } else {
        ++result.failedByReason[std::string(os::pageAnswerName(status[i]))];
      }
    }
  });
  result.message = std::to_string(result.moved) + " page(s) (" + formatBytes(result.bytesMoved) + ") moved to node " +
                   std::to_string(node) + ", " + std::to_string(result.alreadyThere) + " already there, " +
                   std::to_string(result.notPresent) + " not in memory";
  for (const auto& [reason, count] : result.failedByReason)
    result.message += ", " + std::to_string(count) + " could not move: " + reason;
  return result;
}

}  // namespace xmem
