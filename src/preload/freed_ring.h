// The preload library's record of recently freed blocks, for its report. Each entry has its own
// sequence number, odd while it is written: a reader (the report's signal handler, which may have
// interrupted a writer on its own thread) skips an entry being written instead of waiting for it,
// and a fork() in the middle of a write leaves nothing locked. No lock anywhere.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace xmem::preload {

template <typename Record, std::size_t kEntries>
class FreedRing {
  static_assert(std::is_trivially_copyable_v<Record>, "read with memcpy while it may be rewritten");

 public:
  struct Entry {
    std::atomic<std::uint32_t> sequence{0};
    Record record;
  };

  /// The next entry, marked as being written; nullptr when another writer holds it (the ring
  /// wrapped around during its write): then this record is not kept.
  Entry* beginWrite() noexcept {
    auto& entry = entries_[next_.fetch_add(1, std::memory_order_relaxed) % kEntries];
    auto sequence = entry.sequence.load(std::memory_order_relaxed);
    if ((sequence & 1) != 0 || !entry.sequence.compare_exchange_strong(sequence, sequence + 1, std::memory_order_acquire))
      return nullptr;
    std::atomic_thread_fence(std::memory_order_release);
    return &entry;
  }
  void finishWrite(Entry* entry) noexcept {
    entry->sequence.store(entry->sequence.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  void add(const Record& record) noexcept {
    if (Entry* entry = beginWrite()) {
      entry->record = record;
      finishWrite(entry);
    }
  }

  /// Visits a consistent copy of each entry written and not being written, oldest first.
  template <typename Visit>
  void forEach(Visit&& visit) const noexcept {
    const auto next = next_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kEntries; ++i) {
      const Entry& entry = entries_[(next + i) % kEntries];
      const auto before = entry.sequence.load(std::memory_order_acquire);
      if (before == 0 || (before & 1) != 0) continue;
      Record copy;
      std::memcpy(static_cast<void*>(&copy), &entry.record, sizeof copy);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (entry.sequence.load(std::memory_order_relaxed) == before) visit(copy);
    }
  }

 private:
  Entry entries_[kEntries];
  std::atomic<std::size_t> next_{0};
};

}  // namespace xmem::preload
