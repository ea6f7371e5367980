// Placement on a real multi-node kernel: these tests run inside the QEMU guests that
// run_guest.sh boots (2 and 4 nodes, huge pages reserved per node on the kernel command line).
// Where each page is comes from move_pages(2), never from xmem's own reports.
#include "kernel/kernel_test.h"
#include "support/forwarding_platform.h"

#include <xmem/numa_memory_pool.h>
#include <xmem/placement.h>
#include <xmem/topology.h>

#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

namespace xmem::testing {
namespace {

std::string describe(const std::map<int, std::size_t>& pages) {
  std::string text;
  for (auto [node, count] : pages) text += (text.empty() ? "" : ", ") + std::to_string(count) + " on " + std::to_string(node);
  return text;
}

/// Every page of the range is on `node`.
::testing::AssertionResult allPagesOn(const void* address, std::size_t length, std::uint32_t node,
                                      std::size_t step = 4096) {
  auto pages = pagesByNode(address, length, step);
  if (pages.size() == 1 && pages.begin()->first == static_cast<int>(node)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pages by node (negative: errno): " << describe(pages) << "; expected all on "
                                       << node;
}

/// The node nearest to `from` by the kernel's distance matrix (lowest number on a tie).
std::uint32_t nearestByKernel(std::uint32_t from, const std::vector<std::uint32_t>& exclude = {}) {
  const auto distances = kernelDistances();
  std::optional<std::uint32_t> best;
  for (std::uint32_t to = 0; to < distances.size(); ++to) {
    if (std::find(exclude.begin(), exclude.end(), to) != exclude.end()) continue;
    if (!best || distances[from][to] < distances[from][*best]) best = to;
  }
  return best.value();
}

std::string kernelCommandLine() {
  std::ifstream file("/proc/cmdline");
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class NumaGuest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    nodes_ = static_cast<std::uint32_t>(kernelDistances().size());
    if (const char* expected = std::getenv("XMEM_GUEST_NODES")) {  // set by run_guest.sh
      ASSERT_EQ(std::to_string(nodes_), expected) << "the guest did not come up with the nodes it was given";
    }
    if (nodes_ < 2) GTEST_SKIP() << "one NUMA node: these tests run in the multi-node guests (tests/guest/run_guest.sh)";
    ASSERT_EQ(Topology::fromSystem().size(), nodes_);
  }
  std::uint32_t lastNode() const { return nodes_ - 1; }
  std::uint32_t nodes_ = 0;
};

VirtualMemoryOptions boundTo(std::uint32_t node, std::size_t size) {
  VirtualMemoryOptions options;
  options.size = size;
  options.node = node;
  options.numaPolicy = NumaPolicy::Bind;
  options.prefaultThreads = 1;
  return options;
}

TEST_F(NumaGuest, BasePagesBoundToANodeAreAllOnIt) {
  for (std::uint32_t node = 0; node < nodes_; ++node) {
    auto options = boundTo(node, 16 * MiB);
    options.hugePages = false;
    options.transparentHugePages = false;
    VirtualMemory memory(options);
    EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, 4 * KiB);
    EXPECT_EQ(kernelThpBytes(memory.data(), memory.size()), 0U);
    EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node)) << "node " << node;
    EXPECT_TRUE(memory.report().bound);
  }
}

TEST_F(NumaGuest, TransparentHugePagesBoundToANodeAreAllOnIt) {
  for (std::uint32_t node = 0; node < nodes_; ++node) {
    auto options = boundTo(node, 16 * MiB);
    options.hugePages = false;
    VirtualMemory memory(options);
    // The page flags, not smaps: NUMA balancing (on in these guests) hides THPs from smaps.
    EXPECT_GT(kernelThpBytes(memory.data(), memory.size()), 0U) << "no THP: " << decisions(memory);
    EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node)) << "node " << node;
  }
}

TEST_F(NumaGuest, TwoMegabytePagesBoundToANodeAreAllOnIt) {
  for (std::uint32_t node = 0; node < nodes_; ++node) {
    ASSERT_GE(freeHugePagesOn(node, kHugePageSize), 8U) << "the guest reserves 2 MiB pages on every node";
    auto options = boundTo(node, 16 * MiB);
    VirtualMemory memory(options);
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kHugePageSize), 16 * MiB) << decisions(memory);
    EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, kHugePageSize);
    EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node, kHugePageSize)) << "node " << node;
  }
}

TEST_F(NumaGuest, OneGigabytePagesBoundToANodeAreAllOnIt) {
  if (kernelCommandLine().find("hugepagesz=1G") == std::string::npos)
    GTEST_SKIP() << "this guest reserves no 1 GiB pages (the 2-node one does)";
  int tested = 0;
  for (std::uint32_t node = 0; node < nodes_; ++node) {
    if (freeHugePagesOn(node, kOneGbPageSize) == 0) continue;  // boot reservations may land elsewhere
    auto options = boundTo(node, kOneGbPageSize);
    options.oneGbPages = true;
    VirtualMemory memory(options);
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kOneGbPageSize), kOneGbPageSize) << decisions(memory);
    EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, kOneGbPageSize);
    EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node, 2 * MiB)) << "node " << node;
    ++tested;
  }
  EXPECT_EQ(tested, nodes_) << "the command line asks for 1 GiB pages on every node";
}

/// Maps and faults every free huge page of `pageSize` on `node`, bound there, for its lifetime:
/// what another program holding them looks like. Raw syscalls, independent of xmem.
class HugePageHog {
 public:
  HugePageHog(std::uint32_t node, std::size_t pageSize) : length_(freeHugePagesOn(node, pageSize) * pageSize) {
    if (length_ == 0) return;
    const int sizeBits = pageSize == kOneGbPageSize ? 30 : 21;
    address_ = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (sizeBits << MAP_HUGE_SHIFT), -1, 0);
    if (address_ == MAP_FAILED) throw std::runtime_error("hog: mmap failed");
    unsigned long mask = 1UL << node;
    if (::syscall(SYS_mbind, address_, length_, MPOL_BIND, &mask, 64UL, 0U) != 0)
      throw std::runtime_error("hog: mbind failed");
    for (std::size_t offset = 0; offset < length_; offset += pageSize) static_cast<char*>(address_)[offset] = 1;
  }
  ~HugePageHog() {
    if (length_ != 0) ::munmap(address_, length_);
  }
  HugePageHog(const HugePageHog&) = delete;
  HugePageHog& operator=(const HugePageHog&) = delete;

 private:
  std::size_t length_;
  void* address_ = nullptr;
};

TEST_F(NumaGuest, ANodeWithoutFreeHugePagesFallsBackToTransparentPagesOnThatNode) {
  const auto node = lastNode();
  HugePageHog hog(node, kHugePageSize);
  ASSERT_EQ(freeHugePagesOn(node, kHugePageSize), 0U);
  ASSERT_GT(freeHugePagesOn(0, kHugePageSize), 4U) << "other nodes keep theirs: the machine-wide count says yes";
  VirtualMemory memory(boundTo(node, 8 * MiB));
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U);
  EXPECT_EQ(memory.report().thpEligibleBytes(), 8 * MiB) << decisions(memory);
  EXPECT_NE(decisions(memory).find("2 MiB pages: none free on node " + std::to_string(node)), std::string::npos) << decisions(memory);
  EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node));
}

// The free-page check can be wrong by the time the pages are faulted (another program took
// them). Make it wrong on purpose: the node's counts say what the machine has. The real kernel
// then refuses the fault, and the allocation falls back instead of dying of SIGBUS.
class CountsClaimEveryNodeHasTheMachinesPages : public ForwardingPlatform {
 public:
  using ForwardingPlatform::ForwardingPlatform;
  os::Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t>, HugePageCounts& out) noexcept override {
    return ForwardingPlatform::hugePageCounts(pageSize, std::nullopt, out);
  }
};

TEST_F(NumaGuest, AFaultOnANodeWithoutPagesIsAReportedFallbackNotSigbus) {
  const auto node = lastNode();
  HugePageHog hog(node, kHugePageSize);
  CountsClaimEveryNodeHasTheMachinesPages lying(os::current());
  os::ScopedPlatform scoped(lying);
  VirtualMemory memory(boundTo(node, 8 * MiB));
  const auto why = decisions(memory);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U) << why;
  EXPECT_NE(why.find("faulting in 8 MiB on node " + std::to_string(node) + " failed"), std::string::npos) << why;
  EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node));
  std::memset(memory.data(), 7, memory.size());  // and the memory is there to use
}

TEST_F(NumaGuest, OneGigabytePagesMissingOnTheNodeFallBackTo2MegabyteAndThpThere) {
  const auto node = lastNode();
  if (freeHugePagesOn(0, kOneGbPageSize) == 0) GTEST_SKIP() << "no 1 GiB pages in this guest";
  HugePageHog hog(node, kOneGbPageSize);
  auto options = boundTo(node, kOneGbPageSize);
  options.oneGbPages = true;
  VirtualMemory memory(options);
  EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kOneGbPageSize), 0U) << decisions(memory);
  EXPECT_GT(memory.report().bytesOf(PageKind::HugeTlb, kHugePageSize), 0U) << decisions(memory);
  EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node));
}

TEST_F(NumaGuest, BindingAThreadToACpuPutsItsMemoryOnThatCpusNode) {
  auto topology = Topology::fromSystem();
  for (const auto& node : topology.nodes()) {
    ASSERT_FALSE(node.cpus.empty());
    std::thread worker([&] {
      ASSERT_TRUE(VirtualMemory::bindToNUMANode(node.cpus.front(), /*pin=*/true));
      EXPECT_EQ(::sched_getcpu(), static_cast<int>(node.cpus.front()));
      VirtualMemoryOptions options;  // no node asked: the thread's policy decides
      options.size = 8 * MiB;
      options.hugePages = false;
      VirtualMemory memory(options);
      std::memset(memory.data(), 1, memory.size());
      EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), node.id)) << "cpu " << node.cpus.front();
    });
    worker.join();
  }
}

// Memory xmem did not place: made on node 0, moved to the last node page by page.
TEST_F(NumaGuest, MigrateMovesBaseTransparentAndHugetlbPagesToTheNode) {
  const auto target = lastNode();
  struct Case {
    const char* name;
    bool hugePages;
    bool transparent;
  };
  for (auto kind : {Case{"4 KiB", false, false}, Case{"THP", false, true}, Case{"2 MiB hugetlb", true, false}}) {
    auto options = boundTo(0, 16 * MiB);
    options.numaPolicy = NumaPolicy::Preferred;  // a bound range could not leave node 0
    options.hugePages = kind.hugePages;
    options.transparentHugePages = kind.transparent;
    options.alignment = 2 * MiB;
    VirtualMemory memory(options);
    ASSERT_TRUE(allPagesOn(memory.data(), memory.size(), 0)) << kind.name;
    auto before = where(memory.data(), memory.size());
    auto result = migrate(memory.data(), memory.size(), target);
    EXPECT_EQ(result.failed(), 0U) << kind.name << ": " << result.message;
    EXPECT_EQ(result.bytesMoved, 16 * MiB) << kind.name << ": " << result.message;
    EXPECT_TRUE(allPagesOn(memory.data(), memory.size(), target)) << kind.name;
    auto after = where(memory.data(), memory.size());
    EXPECT_EQ(after.bytesByNode().at(target), 16 * MiB) << after.summary();
    EXPECT_EQ(after.bytesOf(PageKind::HugeTlb), before.bytesOf(PageKind::HugeTlb)) << kind.name << " kept its page size";
    std::cout << "[ NOTE     ] " << kind.name << ": " << result.message << "; now " << after.summary() << '\n';
  }
}

MemoryPoolOptions smallPoolPerNode(std::uint32_t nodes) {
  MemoryPoolOptions options;
  options.capacity = nodes * 4 * MiB;  // 4 MiB for each node
  options.grow = false;
  options.hugePages = true;
  return options;
}

TEST_F(NumaGuest, PoolsAreMadePerNodeOnFirstUseAndTheirChunksLiveThere) {
  NumaMemoryPool pool(smallPoolPerNode(nodes_), Topology::fromSystem());
  for (const auto& stats : pool.stats()) EXPECT_FALSE(stats.created) << "node " << stats.node;
  for (std::uint32_t node = nodes_; node-- > 0;) {
    auto chunk = pool.tryAllocate(kPoolMinChunk, node);
    ASSERT_TRUE(chunk.ok()) << chunk.error().what();
    EXPECT_EQ(chunk.value().node, node);
    std::memset(chunk.value().address, 1, kPoolMinChunk);
    EXPECT_TRUE(allPagesOn(chunk.value().address, kPoolMinChunk, node)) << "node " << node;
    EXPECT_TRUE(pool.poolOf(node)->isHugePages(node));
    for (const auto& stats : pool.stats())
      EXPECT_EQ(stats.created, stats.node >= node) << "node " << stats.node << " after asking " << node;
    pool.deallocate(chunk.value().address, kPoolMinChunk);
  }
}

TEST_F(NumaGuest, AFullNodeFallsBackToTheNearestNodeByDistanceThenTheNext) {
  auto topology = Topology::fromSystem();
  NumaMemoryPool pool(smallPoolPerNode(nodes_), topology);
  const std::size_t whole = pool.nodeCapacity();
  std::vector<NodeChunk> held;
  std::vector<std::uint32_t> full;
  // Fill node 0, then each node it falls back to, and check each step takes the nearest left.
  auto take = [&](std::uint32_t asked) -> std::optional<std::uint32_t> {
    auto chunk = pool.tryAllocate(whole, asked);
    EXPECT_TRUE(chunk.ok()) << chunk.error().what();
    if (!chunk.ok()) return std::nullopt;
    held.push_back(chunk.value());
    std::memset(chunk.value().address, 1, whole);
    EXPECT_TRUE(allPagesOn(chunk.value().address, whole, chunk.value().node));
    return chunk.value().node;
  };
  ASSERT_EQ(take(0), 0U);
  full.push_back(0);
  while (full.size() < nodes_) {
    const auto expected = nearestByKernel(0, full);
    EXPECT_EQ(take(0), expected) << "full: " << full.size() << " node(s)";
    full.push_back(expected);
  }
  EXPECT_FALSE(pool.tryAllocate(whole, 0).ok()) << "every node is full";
  if (nodes_ == 4) {
    // The 4-node guest's distances do not follow the numbers: the nearest to node 0 is 2, so
    // picking "the next node" or node 0 would have failed above.
    EXPECT_EQ(full[1], 2U);
    EXPECT_EQ(nearestByKernel(1, {1}), 3U);
  }
  for (const auto& stats : pool.stats()) {
    if (stats.node == 0) {
      EXPECT_EQ(stats.fallbacksOut, nodes_ - 1U);
    } else {
      EXPECT_EQ(stats.fallbacksIn, 1U) << "node " << stats.node;
    }
  }
  for (const auto& chunk : held) pool.deallocate(chunk.address, whole);
}

TEST_F(NumaGuest, EveryNodeFallsBackToItsOwnNearest) {
  NumaMemoryPool pool(smallPoolPerNode(nodes_), Topology::fromSystem());
  const std::size_t whole = pool.nodeCapacity();
  for (std::uint32_t node = 0; node < nodes_; ++node) {
    auto own = pool.tryAllocate(whole, node);
    ASSERT_TRUE(own.ok()) << own.error().what();
    auto spilled = pool.tryAllocate(kPoolMinChunk, node);
    ASSERT_TRUE(spilled.ok()) << spilled.error().what();
    EXPECT_EQ(spilled.value().node, nearestByKernel(node, {node})) << "node " << node;
    pool.deallocate(spilled.value().address, kPoolMinChunk);
    pool.deallocate(own.value().address, whole);
  }
}

}  // namespace
}  // namespace xmem::testing
