// mlock on the real kernel, and RLIMIT_MEMLOCK honoured with its value in the reason.
#include "kernel/kernel_test.h"

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <cstdlib>
#include <iostream>

namespace xmem::testing {
namespace {

using LockKernel = KernelTest;

TEST_F(LockKernel, LockedMemoryIsLockedInTheKernel) {
  XMEM_REQUIRE_REAL_MLOCK();
  XMEM_REQUIRE_ROOT("locks 32 MiB, more than RLIMIT_MEMLOCK lets an unprivileged process lock");
  VirtualMemoryOptions o;
  o.size = 32 * MiB;
  o.hugePages = false;  // hugetlb pages are never swapped, and smaps counts them as 0 Locked
  o.transparentHugePages = false;
  o.lock = LockPolicy::Required;
  VirtualMemory memory(o);
  EXPECT_TRUE(memory.isLocked());
  EXPECT_EQ(smapsAt(memory.data()).locked, 32 * MiB);
}

// Runs in a child process: without CAP_IPC_LOCK and with a 64 KiB limit.
[[noreturn]] void lockUnderASmallLimit() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) std::_Exit(10);
  data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
  if (::syscall(SYS_capset, &header, data) != 0) std::_Exit(11);
  rlimit limit{64 * KiB, 64 * KiB};
  if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) std::_Exit(12);

  VirtualMemoryOptions o;
  o.size = 1 * MiB;
  o.hugePages = false;
  o.transparentHugePages = false;
  o.lock = LockPolicy::Required;
  try {
    VirtualMemory memory(o);
    std::cerr << "a 1 MiB lock succeeded under a 64 KiB limit\n";
    std::_Exit(1);
  } catch (const Error& error) {
    const std::string what = error.what();
    if (what.find("RLIMIT_MEMLOCK is 64 KiB (hard limit 64 KiB)") == std::string::npos) {
      std::cerr << "reason does not name the limit: " << what << '\n';
      std::_Exit(2);
    }
    std::cerr << "reason: " << what << '\n';
  }
  o.lock = LockPolicy::BestEffort;
  {
    VirtualMemory memory(o);
    if (memory.isLocked() || memory.report().lockError.find("ulimit -l") == std::string::npos) std::_Exit(3);
  }
  o.size = 32 * KiB;
  o.lock = LockPolicy::Required;
  VirtualMemory small(o);
  if (!small.isLocked()) std::_Exit(4);
  std::_Exit(0);
}

TEST_F(LockKernel, MemlockLimitIsHonouredAndNamed) {
  XMEM_REQUIRE_REAL_MLOCK();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(lockUnderASmallLimit(), ::testing::ExitedWithCode(0), "reason: mlock of 1 MiB failed");
}

}  // namespace
}  // namespace xmem::testing
