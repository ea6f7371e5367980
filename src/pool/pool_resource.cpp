#include <xmem/pool_resource.h>

#include <algorithm>
#include <new>

namespace xmem {

PoolMemoryResource::PoolMemoryResource(std::shared_ptr<IMemoryPool> pool, std::uint32_t node)
    : pool_(std::move(pool)), node_(node) {
  if (!pool_) throw Error(ErrorCode::InvalidArgument, "PoolMemoryResource needs a pool");
}

void* PoolMemoryResource::do_allocate(std::size_t bytes, std::size_t alignment) {
  // Chunks are aligned to their class size, up to 2 MiB.
  const std::size_t chunk = MemoryPool::classSize(std::max<std::size_t>(bytes, 1));
  if (chunk == 0 || alignment > std::min<std::size_t>(chunk, 2 * MiB)) throw std::bad_alloc();
  std::uint8_t* pointer = pool_->get(std::max<std::size_t>(bytes, 1), node_);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void PoolMemoryResource::do_deallocate(void* pointer, std::size_t bytes, std::size_t) {
  pool_->release(pointer, std::max<std::size_t>(bytes, 1), node_);
}

bool PoolMemoryResource::do_is_equal(const std::pmr::memory_resource& other) const noexcept {
  const auto* same = dynamic_cast<const PoolMemoryResource*>(&other);
  return same != nullptr && same->pool_ == pool_ && same->node_ == node_;
}

}  // namespace xmem
