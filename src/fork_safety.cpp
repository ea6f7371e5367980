#include "fork_safety.h"

#include "failure_memory.h"

namespace xmem {

// Always in this order: no path takes the back-off table's lock while holding SystemInfo's.
void lockForFork() noexcept {
  FailureMemory::instance().lockForFork();
  lockSystemInfoCache();
}

void unlockAfterFork() noexcept {
  unlockSystemInfoCache();
  FailureMemory::instance().unlockAfterFork();
}

}  // namespace xmem
