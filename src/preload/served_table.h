// The preload library's table of the blocks it served, keyed by address: open addressing with
// linear probing, lock-free (claim and release are a compare-and-swap and a store, find is loads
// only), so free() never waits and a signal handler may read it.
//
// A released slot becomes a tombstone, which a later claim reuses. Tombstones alone would make a
// lookup of an absent key walk every slot once many distinct blocks have come and gone (a free()
// of a 2 MiB-aligned glibc pointer, say), so claims record the farthest any key ever sat from its
// home slot and lookups never walk farther than that: a key is always within that distance.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace xmem::preload {

template <typename Record, std::size_t kSlots>
class ServedTable {
  static_assert((kSlots & (kSlots - 1)) == 0, "a power of two");

 public:
  static constexpr std::uintptr_t kEmpty = 0;
  static constexpr std::uintptr_t kTombstone = 1;
  static constexpr std::uintptr_t kClaimed = 2;  ///< being filled in: not a key yet

  struct Slot {
    std::atomic<std::uintptr_t> key{kEmpty};
    Record record;
  };

  /// A free slot for `address` (state kClaimed), or nullptr when the table is full. Fill in its
  /// record, then publish(). Addresses are above kClaimed.
  Slot* claim(std::uintptr_t address) noexcept {
    for (std::size_t distance = 0, i = home(address); distance < kSlots; ++distance, i = (i + 1) & (kSlots - 1)) {
      auto key = slots_[i].key.load(std::memory_order_relaxed);
      if ((key == kEmpty || key == kTombstone) &&
          slots_[i].key.compare_exchange_strong(key, kClaimed, std::memory_order_acquire)) {
        // Before the key is published (release): whoever finds the key sees this distance too.
        auto farthest = farthest_.load(std::memory_order_relaxed);
        while (distance > farthest && !farthest_.compare_exchange_weak(farthest, distance, std::memory_order_relaxed)) {
        }
        return &slots_[i];
      }
    }
    return nullptr;
  }

  void publish(Slot* slot, std::uintptr_t address) noexcept { slot->key.store(address, std::memory_order_release); }

  /// The slot that holds `address`, or nullptr. `probes`, if given, counts the slots looked at.
  Slot* find(std::uintptr_t address, std::size_t* probes = nullptr) noexcept {
    const std::size_t limit = farthest_.load(std::memory_order_acquire) + 1;
    std::size_t distance = 0;
    Slot* found = nullptr;
    for (std::size_t i = home(address); distance < limit; ++distance, i = (i + 1) & (kSlots - 1)) {
      const auto key = slots_[i].key.load(std::memory_order_acquire);
      if (key == address) {
        found = &slots_[i];
        ++distance;
        break;
      }
      if (key == kEmpty) {
        ++distance;
        break;
      }
    }
    if (probes != nullptr) *probes = distance;
    return found;
  }

  /// The slot no longer holds its key (do it before the memory can be handed out again).
  void release(Slot* slot) noexcept { slot->key.store(kTombstone, std::memory_order_release); }

  /// Visits every published slot (for the report): `visit(address, record)`.
  template <typename Visit>
  void forEach(Visit&& visit) const noexcept {
    for (const auto& slot : slots_) {
      const auto key = slot.key.load(std::memory_order_acquire);
      if (key > kClaimed) visit(key, slot.record);
    }
  }

  std::size_t farthest() const noexcept { return farthest_.load(std::memory_order_relaxed); }

  /// The slot's position (0 .. kSlots-1): the preload publishes each record at the same place.
  std::size_t indexOf(const Slot* slot) const noexcept { return static_cast<std::size_t>(slot - slots_); }

  /// Published slots now (walks the table: for reports).
  std::size_t count() const noexcept {
    std::size_t live = 0;
    forEach([&](std::uintptr_t, const Record&) { ++live; });
    return live;
  }

 private:
  static std::size_t home(std::uintptr_t address) noexcept {
    // Served blocks are 2 MiB aligned: hash the bits above.
    return static_cast<std::size_t>(((address >> 21) * 0x9E3779B97F4A7C15ULL) >> 40) & (kSlots - 1);
  }

  Slot slots_[kSlots];
  std::atomic<std::size_t> farthest_{0};
};

}  // namespace xmem::preload
