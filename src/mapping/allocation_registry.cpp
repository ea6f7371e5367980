#include "mapping/allocation_registry.h"

#include <xmem/virtual_memory.h>

#include "os/os.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>

namespace xmem {

struct AllocationRegistryEntry {
  AllocationRecord record;
  AllocationRegistryEntry* previous = nullptr;
  AllocationRegistryEntry* next = nullptr;
};

namespace {

// A doubly-linked list under one lock: add and remove are O(1) and allocate outside the lock.
struct List {
  std::mutex mutex;
  AllocationRegistry::Entry* head = nullptr;
  AllocationRegistry::Entry* tail = nullptr;
  std::atomic<std::size_t> count{0};
};

void lockForFork() noexcept;
void unlockAfterFork() noexcept;

List& list() noexcept {
  // Never destroyed: mappings may be freed during exit. Its lock is held across fork() by handlers
  // of its own, so a child forked while a monitor copies the list finds it free (and so does any
  // program using the library, not only one under the preload, which registers the rest).
  static List* instance = [] {
    auto* made = new List;
    os::atFork(lockForFork, unlockAfterFork, unlockAfterFork);
    return made;
  }();
  return *instance;
}

void lockForFork() noexcept { list().mutex.lock(); }
void unlockAfterFork() noexcept { list().mutex.unlock(); }

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
  auto* entry = new (std::nothrow) Entry{record};
  if (entry == nullptr) return nullptr;
  List& l = list();
  std::lock_guard lock(l.mutex);
  entry->previous = l.tail;
  (l.tail != nullptr ? l.tail->next : l.head) = entry;
  l.tail = entry;
  l.count.fetch_add(1, std::memory_order_relaxed);
  return entry;
}

void AllocationRegistry::remove(Entry* entry) noexcept {
  if (entry == nullptr) return;
  List& l = list();
  {
    std::lock_guard lock(l.mutex);
    (entry->previous != nullptr ? entry->previous->next : l.head) = entry->next;
    (entry->next != nullptr ? entry->next->previous : l.tail) = entry->previous;
    l.count.fetch_sub(1, std::memory_order_relaxed);
  }
  delete entry;
}

std::vector<AllocationRecord> AllocationRegistry::records() const {
  List& l = list();
  std::vector<AllocationRecord> out;
  for (;;) {
    // Room first, then the lock: copying under it never allocates.
    out.reserve(l.count.load(std::memory_order_relaxed) + 8);
    std::lock_guard lock(l.mutex);
    if (l.count.load(std::memory_order_relaxed) > out.capacity()) continue;
    for (const Entry* entry = l.head; entry != nullptr; entry = entry->next) out.push_back(entry->record);
    return out;
  }
}

std::size_t AllocationRegistry::size() const noexcept { return list().count.load(std::memory_order_relaxed); }


}  // namespace xmem
