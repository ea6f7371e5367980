#include "mapping/allocation_registry.h"

#include <xmem/virtual_memory.h>

#include "machine/live_list.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace xmem {

struct AllocationRegistryEntry : LiveListNode<AllocationRecord> {};

namespace {

LiveList<AllocationRecord>& list() noexcept { return LiveList<AllocationRecord>::instance(); }

}  // namespace

AllocationRecord AllocationRecord::of(std::uintptr_t address, const AllocationReport& report, std::string_view name) {
  AllocationRecord out;
  out.address = address;
  out.requestedBytes = report.requestedSize;
  out.mappedBytes = report.mappedSize;
  std::size_t used = 0;
  for (const auto& segment : report.segments) {
    switch (segment.kind) {
      case PageKind::HugeTlb: {
        auto* slot = std::find_if(out.hugeTlb.begin(), out.hugeTlb.begin() + used,
                                  [&](const auto& part) { return part.first == segment.pageSize; });
        if (slot == out.hugeTlb.begin() + used && used < out.hugeTlb.size()) slot = &out.hugeTlb[used++];
        if (slot != out.hugeTlb.end()) *slot = {segment.pageSize, slot->second + segment.length};
        break;
      }
      case PageKind::Transparent: out.transparentBytes += segment.length; break;
      case PageKind::Base: out.baseBytes += segment.length; break;
      case PageKind::Pool:
        out.poolBytes += segment.length;
        out.poolPageSize = std::max(out.poolPageSize, segment.pageSize);
        break;
    }
  }
  out.nodeAsked = report.node ? static_cast<std::int32_t>(*report.node) : -1;
  out.policy = report.numaPolicy;
  out.bound = report.bound;
  out.locked = report.locked;
  out.prefaulted = report.prefaultThreads != 0;
  const std::size_t length = std::min(name.size(), out.name.size() - 1);
  std::memcpy(out.name.data(), name.data(), length);
  std::size_t written = 0;
  for (const auto& decision : report.decisions) {
    const std::size_t room = out.decisions.size() - 1 - written;
    if (room <= 2) break;
    if (written != 0) {
      std::memcpy(out.decisions.data() + written, "; ", 2);
      written += 2;
    }
    const std::size_t take = std::min(decision.size(), out.decisions.size() - 1 - written);
    std::memcpy(out.decisions.data() + written, decision.data(), take);
    written += take;
  }
  return out;
}

AllocationRegistry& AllocationRegistry::instance() noexcept {
  static AllocationRegistry registry;
  return registry;
}

AllocationRegistry::Entry* AllocationRegistry::add(const AllocationRecord& record) noexcept {
  auto* entry = new (std::nothrow) Entry;
  if (entry == nullptr) return nullptr;
  entry->value = record;
  list().link(entry);
  return entry;
}

void AllocationRegistry::remove(Entry* entry) noexcept {
  if (entry == nullptr) return;
  list().unlink(entry);
  delete entry;
}

std::vector<AllocationRecord> AllocationRegistry::records() const {
  return list().copyOut<AllocationRecord>([](const AllocationRecord& record) { return record; });
}

std::size_t AllocationRegistry::size() const noexcept { return list().size(); }


}  // namespace xmem
