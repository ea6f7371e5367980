#include <xmem/system_info.h>

#include "machine/machine_locks.h"
#include "machine/platform_cache.h"
#include "os/os.h"


namespace xmem {
namespace {
XMEM_CACHE_CONSTINIT NeverDestroyed<PlatformCache<SystemInfo>> systemInfoStorage;
XMEM_CACHE_CONSTINIT PlatformCache<SystemInfo>& systemInfoCache = systemInfoStorage.value;
}  // namespace

void lockSystemInfoCache() noexcept { systemInfoCache.lock(); }
void unlockSystemInfoCache() noexcept { systemInfoCache.unlock(); }

// A test that installs another platform gets that platform's machine on its next call.
std::shared_ptr<const SystemInfo> SystemInfo::get() {
  return systemInfoCache.get([] { return os::current().probe(); });
}

std::shared_ptr<const SystemInfo> SystemInfo::refresh() {
  return systemInfoCache.refresh([] { return os::current().probe(); });
}

Availability hugePageAvailability(std::size_t pageSize, std::optional<std::uint32_t> node) {
  auto info = SystemInfo::get();
  Availability result;
  const std::string size = formatBytes(pageSize);
  if (pageSize == kOneGbPageSize && !info->cpuHasOneGbPages) {
    result.reason = "the CPU has no 1 GiB page support (no pdpe1gb flag)";
    return result;
  }
  if (info->hugePages(pageSize) == nullptr) {
    result.reason = pageSize == kOneGbPageSize
                        ? "the kernel offers no 1 GiB pages (it needs hugepagesz=1G on its command line)"
                        : "the kernel offers no " + size + " pages (built without hugetlb support?)";
    return result;
  }
  if (node && !info->hasNode(*node)) {
    result.reason = "node " + std::to_string(*node) + " does not exist on this machine";
    return result;
  }
  if (!info->largePageRight.usable()) {
    // The guidance is long: it is said once, in SystemInfo's largePageRight (and `xmem info`).
    result.reason = "\"Lock pages in memory\" is " + std::string(toString(info->largePageRight.state)) +
                    (info->largePageRight.account.empty() ? "" : " for " + info->largePageRight.account) +
                    " (what to do: SystemInfo::largePageRight.guidance, or `xmem info`)";
    return result;
  }
  if (os::current().capabilities().hugePagesWithoutPool) {
    // Windows: no pool, no count. Pages come from free memory, if it has contiguous runs.
    result.available = true;
    result.freePages = info->memoryAvailable / pageSize;
    result.reason = "taken from free memory at allocation time (Windows keeps no pool to reserve): " +
                    formatBytes(info->memoryAvailable) + " free; whether enough is contiguous is known only by trying";
    return result;
  }
  HugePageCounts counts;
  if (auto status = os::current().hugePageCounts(pageSize, node, counts); !status) {
    result.reason = "cannot read the " + size + " page counts: " + os::describe(status);
    return result;
  }
  result.freePages = counts.obtainable();
  const std::string where = node ? " on node " + std::to_string(*node) : "";
  if (counts.available() == 0 && result.freePages != 0) {
    result.available = true;
    result.reason = "none free, but the kernel may add up to " + std::to_string(result.freePages) +
                    " surplus pages on demand (nr_overcommit_hugepages)";
    return result;
  }
  if (result.freePages == 0) {
    result.reason = (counts.total == 0 ? "no " + size + " pages are reserved" + where
                                       : "all " + std::to_string(counts.total) + " reserved " + size + " pages" +
                                             where + " are in use") +
                    "; reserve some as root (the count is in " + os::current().hugePageCountPath(pageSize, node) + ")";
    return result;
  }
  result.available = true;
  result.reason = std::to_string(result.freePages) + " of " + std::to_string(counts.total) + " " + size +
                  " pages free" + where;
  return result;
}

bool isHugePagesAvailable() { return hugePageAvailability(kHugePageSize).available; }

bool isOneGbPagesAvailable() { return hugePageAvailability(kOneGbPageSize).available; }

std::size_t alignToHugePageSize(std::size_t size) {
  auto pageSize = SystemInfo::get()->defaultHugePageSize;
  return alignUp(size, pageSize != 0 ? pageSize : kHugePageSize);
}

}  // namespace xmem
