// The machine layer's lock on the allocation path (the cached SystemInfo), held across fork() by
// the mapping layer's lockForFork() (mapping/fork_safety.h), which takes every such lock in order.
#pragma once

namespace xmem {

void lockSystemInfoCache() noexcept;
void unlockSystemInfoCache() noexcept;

}  // namespace xmem
