// Allocating a profile's memory layout node by node: the dataset and cache on each node with
// workers (like XMRig's per-node datasets), scratchpads from a pool on the node, JIT code.
#pragma once

#include <xmem/memory_pool.h>
#include <xmem/planner.h>
#include <xmem/virtual_memory.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

struct ProfileAllocationOptions {
  PlanOptions plan;                  ///< threads, huge pages, 1 GiB pages, JIT on huge pages, light mode
  unsigned prefaultThreads = VirtualMemory::kAllCores;  ///< fault the dataset and cache in now
  LockPolicy lock = LockPolicy::None;
  bool transparentHugePages = true;  ///< THP for what explicit huge pages do not cover
};

struct NodeLayout {
  std::uint32_t node = 0;
  unsigned threads = 0;
  std::optional<VirtualMemory> dataset;
  std::optional<VirtualMemory> cache;
  std::shared_ptr<MemoryPool> pool;          ///< scratchpads come from here
  std::vector<PoolLease> scratchpads;        ///< one per thread, given back with the layout
  std::size_t scratchpadSize = 0;
  std::vector<VirtualMemory> jit;            ///< one executable buffer per thread
  std::chrono::nanoseconds time{0};

  /// "node 0: 2336 MiB (2080+256) on 2 x 1 GiB + 144 x 2 MiB pages, huge 100%; scratchpads 16 x 2 MiB
  /// huge; JIT 16 x 64 KiB; 812 ms"
  std::string summary() const;
  /// Bytes of dataset and cache on each kind of page: explicit huge pages of each size, THP
  /// (measured), base pages.
  struct Breakdown {
    std::map<std::size_t, std::size_t, std::greater<>> hugeTlb;  ///< page size -> bytes, largest first
    std::size_t thp = 0, base = 0;
    std::size_t basePageSize = 0;
    std::size_t hugeTlbBytes() const noexcept;
    std::size_t hugeTlbBytes(std::size_t pageSize) const noexcept;
  };
  Breakdown breakdown() const;
};

class ProfileAllocation {
 public:
  using Progress = std::function<void(std::string_view)>;
  /// Throws Error when a part cannot be had at all (each part falls back by itself first).
  static ProfileAllocation allocate(const MemoryProfile& profile, const ProfileAllocationOptions& options,
                                    const Topology& topology, const Progress& progress = {});

  ProfileAllocation(ProfileAllocation&&) noexcept = default;
  ProfileAllocation& operator=(ProfileAllocation&&) noexcept = default;

  const MemoryProfile& profile() const noexcept { return *profile_; }
  const std::vector<NodeLayout>& nodes() const noexcept { return nodes_; }

 private:
  ProfileAllocation() = default;
  const MemoryProfile* profile_ = nullptr;
  std::vector<NodeLayout> nodes_;
};

}  // namespace xmem
