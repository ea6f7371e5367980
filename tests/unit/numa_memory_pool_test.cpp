// NumaMemoryPool on injected topologies of 2 and 4 nodes (the fake platform has the nodes).
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/numa_memory_pool.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using testing::FakePlatform;

class NumaPool : public ::testing::Test {
 protected:
  void SetUp() override { BackoffTable::instance().reset(); }
  void install(std::uint32_t nodes) {
    fake.setNodes(nodes);
    scoped.emplace(fake);
  }
  static MemoryPoolOptions options(std::size_t total) {
    MemoryPoolOptions o;
    o.capacity = total;
    o.grow = false;
    return o;
  }
  static Topology fourNodes() {
    return Topology::fromDistances({0, 1, 2, 3}, {{10, 30, 20, 40}, {30, 10, 40, 20}, {20, 40, 10, 30}, {40, 20, 30, 10}});
  }
  static Topology twoNodes() { return Topology::fromDistances({0, 1}, {{10, 21}, {21, 10}}); }

  FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(NumaPool, NodePoolsAreMadeOnFirstUseOnTheirNode) {
  install(2);
  NumaMemoryPool pool(options(16 * MiB), twoNodes());
  EXPECT_EQ(pool.nodeCapacity(), 8 * MiB) << "size / nodes each";
  EXPECT_EQ(pool.poolOf(0), nullptr);
  EXPECT_EQ(pool.poolOf(1), nullptr);
  EXPECT_EQ(fake.liveRegions(), 0U) << "nothing is mapped before a node asks";

  auto chunk = pool.tryAllocate(2 * MiB, 1);
  ASSERT_TRUE(chunk.ok()) << chunk.error().what();
  EXPECT_EQ(chunk.value().node, 1U);
  EXPECT_EQ(pool.poolOf(0), nullptr) << "node 0 never asked";
  ASSERT_NE(pool.poolOf(1), nullptr);
  EXPECT_TRUE(pool.poolOf(1)->owns(chunk.value().address));
  auto mappings = fake.mappings();
  ASSERT_EQ(mappings.size(), 1U);
  EXPECT_EQ(mappings[0].placement.policy, NumaPolicy::Bind);
  EXPECT_EQ(mappings[0].placement.nodes.nodes(), std::vector<std::uint32_t>{1}) << "node 1's memory is on node 1";
  auto stats = pool.stats();
  EXPECT_FALSE(stats[0].created);
  EXPECT_TRUE(stats[1].created);
  EXPECT_EQ(stats[1].pool.capacity, 8 * MiB);
}

TEST_F(NumaPool, AFullNodeFallsBackToTheOtherOfTwo) {
  install(2);
  NumaMemoryPool pool(options(8 * MiB), twoNodes());
  ASSERT_TRUE(pool.tryAllocate(4 * MiB, 0).ok());
  auto fallback = pool.tryAllocate(2 * MiB, 0);
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback.value().node, 1U);
  auto stats = pool.stats();
  EXPECT_EQ(stats[0].fallbacksOut, 1U);
  EXPECT_EQ(stats[1].fallbacksIn, 1U);
}

TEST_F(NumaPool, FallbackTakesTheNearestNodeByDistance) {
  install(4);
  NumaMemoryPool pool(options(16 * MiB), fourNodes());  // 4 MiB, two 2 MiB chunks, per node
  std::vector<std::uint32_t> served;
  for (int i = 0; i < 8; ++i) {
    auto chunk = pool.tryAllocate(2 * MiB, 0);
    ASSERT_TRUE(chunk.ok()) << i << ": " << chunk.error().what();
    served.push_back(chunk.value().node);
  }
  // Node 0 itself, then node 2 (distance 20), node 1 (30), node 3 (40): not node 1 first.
  EXPECT_EQ(served, (std::vector<std::uint32_t>{0, 0, 2, 2, 1, 1, 3, 3}));
  auto full = pool.tryAllocate(2 * MiB, 0);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::OutOfMemory);
  EXPECT_THAT(full.error().what(), HasSubstr("no node can serve 2 MiB (node 0: the pool is full"));
  auto stats = pool.stats();
  EXPECT_EQ(stats[0].fallbacksOut, 6U);
  EXPECT_EQ(stats[2].fallbacksIn, 2U);
  EXPECT_EQ(stats[1].fallbacksIn, 2U);
  EXPECT_EQ(stats[3].fallbacksIn, 2U);
}

TEST_F(NumaPool, ReleaseReturnsAChunkToTheNodeThatServedIt) {
  install(4);
  NumaMemoryPool pool(options(16 * MiB), fourNodes());
  pool.tryAllocate(4 * MiB, 0);
  auto fallback = pool.tryAllocate(2 * MiB, 0).value();
  ASSERT_EQ(fallback.node, 2U);
  EXPECT_TRUE(pool.release(fallback.address, 2 * MiB, 0)) << "asked for node 0, owned by node 2";
  EXPECT_EQ(pool.poolOf(2)->stats().releases, 1U);
  EXPECT_FALSE(pool.release(fallback.address, 2 * MiB, 0)) << "not twice";
}

TEST_F(NumaPool, UnknownNodeAndBadSizeAreErrors) {
  install(2);
  NumaMemoryPool pool(options(8 * MiB), twoNodes());
  auto unknown = pool.tryAllocate(2 * MiB, 5);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().what(), HasSubstr("node 5 does not exist: the nodes are 0, 1"));
  auto zero = pool.tryAllocate(0, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code(), ErrorCode::InvalidArgument) << "a bad size is not retried on other nodes";
  EXPECT_EQ(pool.stats()[1].created, false);
  EXPECT_EQ(pool.get(2 * MiB, 5), nullptr);
}

TEST_F(NumaPool, VirtualMemoryReportsTheNodeThatServedIt) {
  install(2);
  auto pool = std::make_shared<NumaMemoryPool>(options(8 * MiB), twoNodes());
  auto previous = setGlobalPool(pool);
  VirtualMemoryOptions o;
  o.size = 4 * MiB;
  o.usePool = true;
  o.node = 0;
  {
    VirtualMemory first(o);
    EXPECT_EQ(first.report().node, 0U);
    VirtualMemory second(o);  // node 0 is full now
    EXPECT_EQ(second.report().node, 1U);
    EXPECT_TRUE(pool->poolOf(1)->owns(second.data()));
    std::string decisions;
    for (const auto& line : second.report().decisions) decisions += line;
    EXPECT_THAT(decisions, HasSubstr("on node 1 (node 0 was full)"));
  }
  EXPECT_EQ(pool->poolOf(1)->stats().liveChunks, 0U) << "given back to the node that served it";
  setGlobalPool(previous);
}

TEST_F(NumaPool, SpecInterface) {
  install(2);
  fake.setHugePages(kHugePageSize, 0, 10);
  NumaMemoryPool pool(options(8 * MiB), twoNodes());
  IMemoryPool& spec = pool;
  ASSERT_NE(spec.get(2 * MiB, 0), nullptr);
  ASSERT_NE(spec.get(2 * MiB, 1), nullptr);
  EXPECT_TRUE(spec.isHugePages(0));
  EXPECT_FALSE(spec.isHugePages(1)) << "node 1 has no 2 MiB pages in the fake";
  spec.release(0);
  EXPECT_EQ(pool.poolOf(0)->stats().resets, 1U);
}

TEST_F(NumaPool, ReleaseByNodeGivesUpAChunkOnTheNodeThatServedIt) {
  install(2);
  NumaMemoryPool pool(options(8 * MiB), twoNodes());
  IMemoryPool& spec = pool;
  ASSERT_NE(spec.get(4 * MiB, 0), nullptr);
  ASSERT_NE(spec.get(4 * MiB, 0), nullptr);  // node 0 is full: node 1 serves it
  ASSERT_EQ(pool.stats()[0].fallbacksOut, 1U);
  spec.release(0);
  spec.release(0);
  for (std::uint32_t node : {0U, 1U}) {
    auto stats = pool.poolOf(node)->stats();
    EXPECT_EQ(stats.liveChunks, 0U) << "node " << node;
    EXPECT_EQ(stats.invalidReleases, 0U) << "node " << node;
    EXPECT_EQ(stats.resets, 1U) << "node " << node << " is whole again";
  }
  spec.release(0);
  EXPECT_EQ(pool.poolOf(0)->stats().invalidReleases + pool.poolOf(1)->stats().invalidReleases, 1U)
      << "a third release for two chunks is refused";
}

TEST_F(NumaPool, AskingWhetherANodeIsOnHugePagesMakesNoPool) {
  install(2);
  fake.setHugePages(kHugePageSize, 0, 10);
  const NumaMemoryPool pool(options(8 * MiB), twoNodes());
  EXPECT_FALSE(pool.isHugePages(0)) << "no memory for node 0 yet, so none of it is huge";
  EXPECT_EQ(pool.poolOf(0), nullptr);
  EXPECT_EQ(fake.liveRegions(), 0U) << "a query maps nothing";
}

}  // namespace
}  // namespace xmem
