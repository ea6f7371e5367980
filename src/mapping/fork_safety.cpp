#include "mapping/fork_safety.h"

#include "machine/machine_locks.h"
#include "mapping/backoff_table.h"

namespace xmem {

// Always in this order: no path takes the back-off table's lock while holding a cache's, and a
// topology read takes SystemInfo's inside the topology's.
void lockForFork() noexcept {
  lockUsePoolSource();  // taken alone: nothing is locked while it is held
  BackoffTable::instance().lockForFork();
  lockTopologyCache();
  lockSystemInfoCache();
}

void unlockAfterFork() noexcept {
  unlockSystemInfoCache();
  unlockTopologyCache();
  BackoffTable::instance().unlockAfterFork();
  unlockUsePoolSource();
}

}  // namespace xmem
