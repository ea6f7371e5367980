// Pools on the real kernel: chunks of a pool on 2 MiB pages are on 2 MiB pages.
#include "kernel/kernel_test.h"

#include <xmem/memory_pool.h>

#include <cstring>

namespace xmem::testing {
namespace {

using PoolKernel = KernelTest;

TEST_F(PoolKernel, ChunksOfAHugePagePoolAreOnTwoMegabytePages) {
  XMEM_REQUIRE_NATIVE_PLATFORM("builds a pool on 2 MiB pages");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages");
  HugePageReservation pages(kHugePageSize, 8);
  ASSERT_EQ(pages.obtained(), 8U);
  MemoryPoolOptions options;
  options.capacity = 16 * MiB;
  options.transparentHugePages = false;
  options.grow = false;
  MemoryPool pool(options);
  EXPECT_TRUE(pool.isHugePages(0)) << pool.report().summary();
  auto* scratchpad = pool.allocate(2 * MiB);
  auto* small = pool.allocate(256 * KiB);
  std::memset(scratchpad, 1, 2 * MiB);
  std::memset(small, 2, 256 * KiB);
  EXPECT_EQ(smapsAt(scratchpad).kernelPageSize, 2 * MiB);
  EXPECT_EQ(smapsAt(small).kernelPageSize, 2 * MiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(scratchpad) % (2 * MiB), 0U) << "one scratchpad, one huge page";
  auto stats = pool.stats();
  EXPECT_TRUE(stats.huge);
  EXPECT_EQ(stats.hugeBytes, 16 * MiB);
  EXPECT_EQ(stats.pageSize, 2 * MiB);
}

TEST_F(PoolKernel, VirtualMemoryTakesItsScratchpadFromTheGlobalPool) {
  XMEM_REQUIRE_NATIVE_PLATFORM("builds the global pool on 2 MiB pages");
  XMEM_REQUIRE_ROOT("reserves 2 MiB pages");
  HugePageReservation pages(kHugePageSize, 8);
  ASSERT_EQ(pages.obtained(), 8U);
  VirtualMemory::init(16 * MiB, kHugePageSize);
  {
    VirtualMemoryOptions options;
    options.size = 2 * MiB;
    options.usePool = true;
    VirtualMemory scratchpad(options);
    EXPECT_TRUE(scratchpad.isExternal());
    EXPECT_TRUE(scratchpad.isHugePages()) << scratchpad.report().summary();
    std::memset(scratchpad.data(), 3, scratchpad.size());
    EXPECT_EQ(smapsAt(scratchpad.data()).kernelPageSize, 2 * MiB);
  }
  VirtualMemory::destroy();
  EXPECT_EQ(readCount("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"), 8U) << "the pool's pages are back";
}

}  // namespace
}  // namespace xmem::testing
