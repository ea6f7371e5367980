// fork() copies a lock that another thread holds as held forever: a child that allocates would
// wait on it for good. These take every lock the library's allocation path may take (the use-pool
// slot, the huge page back-off table, the cached Topology and SystemInfo), in one order, so a
// process that forks while xmem allocates (the preload library registers them with
// pthread_atfork) hands its child free locks.
// Pools are not covered: a forked child must not use a pool its parent's threads were using.
#pragma once

namespace xmem {

void lockForFork() noexcept;
void unlockAfterFork() noexcept;  ///< in the parent, and in the child

// The mapping layer's own part, in virtual_memory.cpp.
void lockUsePoolSource() noexcept;
void unlockUsePoolSource() noexcept;

}  // namespace xmem
