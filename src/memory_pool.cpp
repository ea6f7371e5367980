#include <xmem/memory_pool.h>

#include <atomic>

namespace xmem {
namespace {
std::atomic<IMemoryPool*> installedPool{nullptr};
}

IMemoryPool* globalPool() noexcept { return installedPool.load(std::memory_order_acquire); }

IMemoryPool* setGlobalPool(IMemoryPool* pool) noexcept {
  return installedPool.exchange(pool, std::memory_order_acq_rel);
}

}  // namespace xmem
