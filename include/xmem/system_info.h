// What this machine offers for memory, probed from the kernel into plain data.
//
// SystemInfo::get() probes once and caches (page sizes, THP mode and memlock limits do not change
// under a running process in practice); SystemInfo::refresh() reads everything again. Free huge page
// counts do change, so the availability functions below always read them live.
#pragma once

#include <xmem/memory_facts.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xmem {

/// Why a huge page size can or cannot be used now, for people.
struct Availability {
  bool available = false;
  std::uint64_t freePages = 0;
  std::string reason;
};

/// MachineFacts probed once and cached.
struct SystemInfo : MachineFacts {
  SystemInfo() = default;
  SystemInfo(MachineFacts facts) : MachineFacts(std::move(facts)) {}  // NOLINT(google-explicit-constructor)

  /// The cached snapshot, probed on first use. Shared, so a refresh() never invalidates it.
  static std::shared_ptr<const SystemInfo> get();
  /// A fresh snapshot, which also replaces the cached one.
  static std::shared_ptr<const SystemInfo> refresh();
};

/// Can a mapping get pages of `pageSize` now (on `node`, or anywhere)? Reads free counts live.
Availability hugePageAvailability(std::size_t pageSize, std::optional<std::uint32_t> node = std::nullopt);

/// Spec API: explicit 2 MiB pages are free now.
bool isHugePagesAvailable();
/// Spec API: the CPU and kernel support 1 GiB pages and some are free now.
bool isOneGbPagesAvailable();

/// Round to a multiple of the default huge page size (2 MiB when there is none).
std::size_t alignToHugePageSize(std::size_t size);

}  // namespace xmem
