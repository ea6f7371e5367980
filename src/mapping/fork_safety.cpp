#include "mapping/fork_safety.h"

#include "machine/machine_locks.h"
#include "mapping/backoff_table.h"

namespace xmem {

// Always in this order: no path takes the back-off table's lock while holding SystemInfo's.
void lockForFork() noexcept {
  BackoffTable::instance().lockForFork();
  lockSystemInfoCache();
}

void unlockAfterFork() noexcept {
  unlockSystemInfoCache();
  BackoffTable::instance().unlockAfterFork();
}

}  // namespace xmem
