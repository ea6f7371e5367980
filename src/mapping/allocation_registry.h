// The live allocations of this process (every VirtualMemory that owns its mapping), as plain
// records a monitor can copy out. Its lock is held across fork() by handlers of its own. Registering is one small allocation and one short lock per
// mapping (mappings are made with system calls, so it is noise); copying out takes the lock only
// to copy into room reserved before it, so a snapshot never allocates while holding it.
#pragma once

#include <xmem/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace xmem {

struct AllocationReport;

/// What one allocation asked for and what its parts are (hugetlb parts are confirmed by the
/// kernel; THP parts are only eligible: a monitor measures them).
struct AllocationRecord {
  std::uintptr_t address = 0;
  std::size_t requestedBytes = 0;
  std::size_t mappedBytes = 0;
  std::array<std::pair<std::size_t, std::size_t>, 4> hugeTlb{};  ///< (page size, bytes); unused: 0
  std::size_t transparentBytes = 0;  ///< advised for THP
  std::size_t baseBytes = 0;
  std::size_t poolBytes = 0;         ///< a pool chunk ...
  std::size_t poolPageSize = 0;      ///< ... on pages of this size
  std::int32_t nodeAsked = -1;       ///< -1: none
  NumaPolicy policy = NumaPolicy::None;
  bool bound = false;
  bool locked = false;
  bool prefaulted = false;
  std::array<char, 48> name{};       ///< NUL-terminated, cut to fit
  std::array<char, 160> decisions{}; ///< the cascade's steps ("; "-joined, cut to fit): why each fallback

  static AllocationRecord of(std::uintptr_t address, const AllocationReport& report, std::string_view name);
};

/// One listed record (VirtualMemory holds a pointer to its own).
struct AllocationRegistryEntry;

class AllocationRegistry {
 public:
  using Entry = AllocationRegistryEntry;
  static AllocationRegistry& instance() noexcept;

  /// Adds a record; nullptr when there is no memory for it (the allocation still works, unlisted).
  Entry* add(const AllocationRecord& record) noexcept;
  void remove(Entry* entry) noexcept;
  /// Every live record, oldest first.
  std::vector<AllocationRecord> records() const;
  std::size_t size() const noexcept;
};

}  // namespace xmem
