// NumaMemoryPool: one MemoryPool per NUMA node, made the first time a node asks, each holding an
// equal share of the total and bound to its node. When a node's pool cannot serve a request (full
// and unable to grow on that node), the nearest node by distance serves it, then the next, and
// the statistics record it.
#pragma once

#include <xmem/memory_pool.h>
#include <xmem/topology.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace xmem {

struct NodePoolStats {
  std::uint32_t node = 0;
  bool created = false;           ///< the node's pool exists (it has been asked for)
  PoolStats pool;                 ///< empty until created
  std::uint64_t fallbacksOut = 0; ///< requests for this node served by another node
  std::uint64_t fallbacksIn = 0;  ///< requests for other nodes served here
};

/// A chunk and the node whose pool served it.
struct NodeChunk {
  std::uint8_t* address = nullptr;
  std::uint32_t node = 0;
};

class NumaMemoryPool final : public IMemoryPool {
 public:
  /// `perNode.capacity` is the total, shared equally by the nodes of `topology`; the other
  /// options apply to each node's pool (its node and a Bind policy are set per node).
  NumaMemoryPool(const MemoryPoolOptions& perNode, Topology topology);
  /// The spec's form: `size` bytes in all on this machine's nodes, huge pages when asked.
  NumaMemoryPool(std::size_t size, bool hugePages);
  ~NumaMemoryPool() override;

  /// A chunk on `node`, or on the nearest node that has room. Errors: unknown node, bad size, or
  /// no node can serve it.
  Result<NodeChunk> tryAllocate(std::size_t size, std::uint32_t node) noexcept;
  bool deallocate(void* chunk, std::size_t size) noexcept;
  /// The node's pool, or nullptr when it has not been made yet.
  MemoryPool* poolOf(std::uint32_t node) const noexcept;
  std::vector<NodePoolStats> stats() const;
  std::size_t trim();
  const Topology& topology() const noexcept { return topology_; }
  std::size_t nodeCapacity() const noexcept { return nodeOptions_.capacity; }

  // IMemoryPool. get() remembers which node served each request, so that release(node), which
  // names no chunk, gives one up on the pool that holds it (the requested node's, or a fallback's).
  /// False for a node whose pool has not been made yet: a query makes nothing.
  bool isHugePages(std::uint32_t node) const override;
  std::uint8_t* get(std::size_t size, std::uint32_t node) override;
  void release(std::uint32_t node) override;
  bool release(void* chunk, std::size_t size, std::uint32_t node) noexcept override;
  /// ChunkSource: tryAllocate() and deallocate(), so the chunk names the node that served it.
  std::optional<Chunk> takeChunk(std::size_t size, std::uint32_t node) override;
  bool giveBackChunk(void* address, std::size_t size, std::uint32_t node) noexcept override;

 private:
  struct Slot {
    std::atomic<MemoryPool*> pool{nullptr};
    std::atomic<std::uint64_t> fallbacksOut{0};
    std::atomic<std::uint64_t> fallbacksIn{0};
    std::string creationError;  // guarded by createMutex_
  };
  Slot* slotOf(std::uint32_t node) const noexcept;
  /// Position of the slot whose pool owns `chunk`, or npos.
  std::size_t ownerOf(const void* chunk) const noexcept;
  std::atomic<std::uint64_t>& handedOut(std::size_t requested, std::size_t served) const noexcept {
    return handedOut_[requested * ids_.size() + served];
  }
  /// Throws std::bad_alloc only.
  MemoryPool* getOrCreate(std::uint32_t node, std::string& why);
  Result<NodeChunk> allocateOrThrowBadAlloc(std::size_t size, std::uint32_t node);

  MemoryPoolOptions nodeOptions_;
  Topology topology_;
  std::vector<std::uint32_t> ids_;  // position of each slot's node
  std::unique_ptr<Slot[]> slots_;
  /// Chunks get() handed out and not yet given back, per (requested node, serving node) slot.
  std::unique_ptr<std::atomic<std::uint64_t>[]> handedOut_;
  mutable std::mutex createMutex_;
  std::vector<std::unique_ptr<MemoryPool>> owned_;
};

}  // namespace xmem
