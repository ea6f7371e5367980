// The process-wide pool: the mapping layer's use-pool source, when that is a pool. Held by
// shared_ptr so replacing or destroying it never leaves a VirtualMemory with a dangling chunk:
// each one keeps its pool alive until it is freed.
#include <xmem/memory_pool.h>
#include <xmem/numa_memory_pool.h>
#include <xmem/topology.h>

namespace xmem {

std::shared_ptr<IMemoryPool> globalPool() { return std::dynamic_pointer_cast<IMemoryPool>(usePoolSource()); }

std::shared_ptr<IMemoryPool> setGlobalPool(std::shared_ptr<IMemoryPool> pool) {
  return std::dynamic_pointer_cast<IMemoryPool>(setUsePoolSource(std::move(pool)));
}

void initGlobalPool(std::size_t poolSize, std::size_t hugePageSize) {
  MemoryPoolOptions options;
  options.capacity = poolSize;
  options.hugePages = hugePageSize > 0;
  options.transparentHugePages = hugePageSize > 0;
  auto topology = *Topology::get();
  if (topology.size() > 1)
    setGlobalPool(std::make_shared<NumaMemoryPool>(options, std::move(topology)));
  else
    setGlobalPool(std::make_shared<MemoryPool>(options));
}

void destroyGlobalPool() { setGlobalPool(nullptr); }

// The spec's static members of VirtualMemory make a pool, so they live here, above both layers.
void VirtualMemory::init(std::size_t poolSize, std::size_t hugePageSize) { initGlobalPool(poolSize, hugePageSize); }
void VirtualMemory::destroy() { destroyGlobalPool(); }

}  // namespace xmem
