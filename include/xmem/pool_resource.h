// A std::pmr::memory_resource over a pool, so standard containers can live in pooled (huge page,
// node-local) memory. Pools hand out chunks of 64 KiB and more: use it as the upstream of a
// std::pmr::unsynchronized_pool_resource or monotonic_buffer_resource for small objects.
#pragma once

#include <xmem/memory_pool.h>

#include <memory>
#include <memory_resource>

namespace xmem {

class PoolMemoryResource final : public std::pmr::memory_resource {
 public:
  explicit PoolMemoryResource(std::shared_ptr<IMemoryPool> pool, std::uint32_t node = 0);

  IMemoryPool& pool() const noexcept { return *pool_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* pointer, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override;

  std::shared_ptr<IMemoryPool> pool_;
  std::uint32_t node_;
};

}  // namespace xmem
