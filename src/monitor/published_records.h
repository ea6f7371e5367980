// The preload library's records of what it served, published where a monitor outside the process
// can read them without a server inside it: a memfd named kPublishedRecordsName that the process
// keeps open and mapped. One slot per slot of the preload's table of served blocks, each guarded
// by a sequence number (odd while it is written), so a reader copying the file sees whole records
// or knows to skip them. Plain data only: both sides include this header and nothing else of each
// other.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace xmem::published {

inline constexpr const char* kPublishedRecordsName = "xmem-preload-records";
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr char kMagic[8] = {'X', 'M', 'E', 'M', 'P', 'R', 'L', '1'};
/// Slots of the preload's table of served blocks, and so of the published area.
inline constexpr std::size_t kSlots = std::size_t{1} << 16;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t slotCount;
  std::uint64_t slotSize;    ///< sizeof(Slot), so a reader of another build can refuse it
};

struct Slot {
  std::atomic<std::uint64_t> sequence;  ///< odd: being written
  std::uint64_t address;                ///< 0: free
  std::uint64_t requestedBytes;
  std::uint64_t mappedBytes;
  std::uint64_t hugeTlbBytes;
  std::uint64_t pageSize;               ///< the largest page size of it
  std::int32_t nodeAsked;               ///< -1: none
  std::uint8_t locked;
  std::uint8_t pooled;
  char source[18];                      ///< "mapping" (its own) or "pool" (a pool chunk), NUL-terminated
};
static_assert(sizeof(Slot) == 72);

inline constexpr std::size_t bytesFor(std::size_t slots) noexcept { return sizeof(Header) + slots * sizeof(Slot); }

/// The writer's side (one slot is written by one thread at a time: the one that owns the block).
inline void write(Slot& slot, const Slot& values) noexcept {
  const auto sequence = slot.sequence.load(std::memory_order_relaxed);
  slot.sequence.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.address = values.address;
  slot.requestedBytes = values.requestedBytes;
  slot.mappedBytes = values.mappedBytes;
  slot.hugeTlbBytes = values.hugeTlbBytes;
  slot.pageSize = values.pageSize;
  slot.nodeAsked = values.nodeAsked;
  slot.locked = values.locked;
  slot.pooled = values.pooled;
  std::memcpy(slot.source, values.source, sizeof(slot.source));
  slot.sequence.store(sequence + 2, std::memory_order_release);
}

inline void clear(Slot& slot) noexcept {
  const auto sequence = slot.sequence.load(std::memory_order_relaxed);
  slot.sequence.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.address = 0;
  slot.sequence.store(sequence + 2, std::memory_order_release);
}

}  // namespace xmem::published
