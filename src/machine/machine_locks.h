// The machine layer's locks on the allocation path (the cached Topology and SystemInfo; a
// topology read takes SystemInfo's lock inside its own, never the other way), held across fork() by
// the mapping layer's lockForFork() (mapping/fork_safety.h), which takes every such lock in order.
#pragma once

namespace xmem {

void lockTopologyCache() noexcept;
void unlockTopologyCache() noexcept;
void lockSystemInfoCache() noexcept;
void unlockSystemInfoCache() noexcept;

}  // namespace xmem
