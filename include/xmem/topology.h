// NUMA nodes, their CPUs and memory, and the distances between them (ACPI SLIT units: 10 is
// local). Plain data: the real one comes from the machine, tests build their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

class Topology {
 public:
  struct Node {
    std::uint32_t id = 0;
    std::vector<std::uint32_t> cpus;
    std::uint64_t memory = 0;  ///< bytes
  };

  /// `distances[i][j]` is the distance from nodes[i] to nodes[j]. Throws Error unless the matrix
  /// is square over the nodes, ids are unique, and each node is nearest to itself.
  Topology(std::vector<Node> nodes, std::vector<std::vector<std::uint32_t>> distances);
  /// Nodes with the given ids and that distance matrix (no CPUs, no memory figures): for tests.
  static Topology fromDistances(const std::vector<std::uint32_t>& ids, std::vector<std::vector<std::uint32_t>> distances);
  /// This machine, read once and cached (a full hwloc load takes milliseconds): what every
  /// caller should use. Shared, so it stays valid for as long as a caller holds it.
  static std::shared_ptr<const Topology> get();
  /// This machine read now: from hwloc, or from the kernel's files where hwloc cannot tell.
  static Topology fromSystem();
  /// This machine from the kernel's files only (SystemInfo).
  static Topology fromKernel();

  /// In id order.
  const std::vector<Node>& nodes() const noexcept { return nodes_; }
  std::size_t size() const noexcept { return nodes_.size(); }
  bool has(std::uint32_t id) const noexcept;
  /// Throws Error for an unknown node.
  std::uint32_t distance(std::uint32_t from, std::uint32_t to) const;
  /// The node whose CPUs include `cpu`.
  std::optional<std::uint32_t> nodeOfCpu(std::uint32_t cpu) const noexcept;
  /// Every other node, nearest first (ties by id): where to look when `from` has no memory left.
  const std::vector<std::uint32_t>& nearestNodes(std::uint32_t from) const;

 private:
  std::size_t indexOf(std::uint32_t id) const;

  std::vector<Node> nodes_;
  std::vector<std::vector<std::uint32_t>> distances_;
  std::vector<std::vector<std::uint32_t>> nearest_;
};

/// What bindThreadToCpu() did.
struct ThreadBinding {
  std::uint32_t cpu = 0;
  std::uint32_t node = 0;
  bool memoryBound = false;  ///< the calling thread's new memory comes from `node` only
  bool cpuPinned = false;    ///< the calling thread runs on `cpu` only
  std::string error;         ///< why a part failed (empty when all worked)
};

/// The spec's bindToNUMANode: bind the calling thread's memory policy to the node of `cpu`
/// (strictly), and pin the thread to that CPU when asked. Throws Error for a CPU on no node.
ThreadBinding bindThreadToCpu(std::uint32_t cpu, bool pinToCpu, const Topology& topology);

}  // namespace xmem
