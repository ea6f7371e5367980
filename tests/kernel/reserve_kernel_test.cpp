// Reservation against this machine's sysfs: reserve, verify, release, counts restored.
#include "kernel/kernel_test.h"

#include <xmem/error.h>
#include <xmem/huge_pages.h>

#include <gmock/gmock.h>
#include <sys/mman.h>

#include <cstdlib>
#include <filesystem>

namespace xmem::testing {
namespace {

TEST(ReserveKernel, ReserveOnNodeZeroThenReleaseRestoresTheCounts) {
  XMEM_REQUIRE_NATIVE_PLATFORM("reserves huge pages");
  XMEM_REQUIRE_ROOT("changes huge page counts");
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

TEST(ReserveKernel, ScopedFreePagesKeepsPagesInUseAndPutsTheCountBack) {
  XMEM_REQUIRE_NATIVE_PLATFORM("reserves huge pages");
  XMEM_REQUIRE_ROOT("changes huge page counts");
  const auto state = std::filesystem::temp_directory_path() / ("xmem-kernel-state-" + std::to_string(::getpid()));
  ::setenv("XMEM_STATE_DIR", state.c_str(), 1);
  const std::string dir = "/sys/kernel/mm/hugepages/hugepages-2048kB/";
  const auto before = readCount(dir + "nr_hugepages");
  const auto inUseBefore = before - readCount(dir + "free_hugepages");
  {
    ScopedFreeHugePages pages;
    ASSERT_TRUE(pages.makeFree(kHugePageSize, 1).complete());
    ASSERT_EQ(readCount(dir + "free_hugepages"), 1U);
    void* page = ::mmap(nullptr, kHugePageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    ASSERT_NE(page, MAP_FAILED);
    static_cast<volatile char*>(page)[0] = 1;  // now in use
    EXPECT_EQ(readCount(dir + "free_hugepages"), 0U);

    auto reservation = pages.makeFree(kHugePageSize, 3);
    EXPECT_TRUE(reservation.complete()) << reservation.advice;
    EXPECT_EQ(readCount(dir + "free_hugepages"), 3U) << "exactly the pages asked for are free";
    EXPECT_EQ(readCount(dir + "nr_hugepages"), inUseBefore + 1 + 3) << "the page in use stays in use";
    EXPECT_EQ(reinterpret_cast<volatile char*>(page)[0], 1);
    ::munmap(page, kHugePageSize);

    try {
      pages.makeFree(4 * MiB, 1);
      ADD_FAILURE() << "4 MiB pages do not exist on x86-64";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), ::testing::HasSubstr("page size 4 MiB is not one this kernel offers"));
    }
  }
  EXPECT_EQ(readCount(dir + "nr_hugepages"), before) << "the count found before the first change";
  EXPECT_FALSE(std::filesystem::exists(reservationStatePath())) << "put back: nothing left for xmem release";
  std::filesystem::remove_all(state);
  ::unsetenv("XMEM_STATE_DIR");
}

}  // namespace
}  // namespace xmem::testing
