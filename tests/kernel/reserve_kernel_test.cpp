// Reservation against this machine's sysfs: reserve, verify, release, counts restored.
#include "kernel/kernel_test.h"

#include <xmem/huge_pages.h>

#include <cstdlib>
#include <filesystem>

namespace xmem::testing {
namespace {

TEST(ReserveKernel, ReserveOnNodeZeroThenReleaseRestoresTheCounts) {
  if (!isRoot()) GTEST_SKIP() << "needs root to change huge page counts";
  const auto state = std::filesystem::temp_directory_path() / ("xmem-kernel-state-" + std::to_string(::getpid()));
  ::setenv("XMEM_STATE_DIR", state.c_str(), 1);
  const std::string nodeCount = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages";
  const std::string globalCount = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
  const auto before = readCount(nodeCount);
  const auto globalBefore = readCount(globalCount);

  auto reservation = reserveHugePages({.pageSize = kHugePageSize, .node = 0U, .count = 6});
  EXPECT_TRUE(reservation.complete()) << reservation.advice;
  EXPECT_EQ(reservation.after, before + 6);
  EXPECT_EQ(readCount(nodeCount), before + 6) << "verified by reading the kernel's file";
  EXPECT_EQ(readCount(globalCount), globalBefore + 6);

  auto restored = releaseHugePages();
  ASSERT_EQ(restored.size(), 1U);
  EXPECT_EQ(restored[0].now, before);
  EXPECT_EQ(readCount(nodeCount), before);
  EXPECT_EQ(readCount(globalCount), globalBefore);
  std::filesystem::remove_all(state);
  ::unsetenv("XMEM_STATE_DIR");
}

}  // namespace
}  // namespace xmem::testing
