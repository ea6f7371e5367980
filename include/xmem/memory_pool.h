// The pool interface of the spec, and the process-wide pool that VirtualMemory's usePool path
// asks first. The pools themselves (MemoryPool, NumaMemoryPool) build on this interface.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xmem {

class IMemoryPool {
 public:
  virtual ~IMemoryPool() = default;

  /// Whether the pool's memory for `node` is on huge pages.
  virtual bool isHugePages(std::uint32_t node) const = 0;
  /// A chunk of `size` bytes on `node`, or nullptr when the pool cannot serve it.
  virtual std::uint8_t* get(std::size_t size, std::uint32_t node) = 0;
  /// Drop one reference on `node`'s pool (the spec's reference-counted release).
  virtual void release(std::uint32_t node) = 0;
  /// Give back one chunk obtained from get(). Pools that cannot free single chunks drop a reference.
  virtual void release(void* chunk, std::size_t size, std::uint32_t node) {
    (void)chunk;
    (void)size;
    release(node);
  }
};

/// The pool VirtualMemory(usePool = true) allocates from; nullptr when none is installed.
IMemoryPool* globalPool() noexcept;
/// Install `pool` (not owned) as the global pool; returns the previous one. nullptr removes it.
IMemoryPool* setGlobalPool(IMemoryPool* pool) noexcept;

}  // namespace xmem
