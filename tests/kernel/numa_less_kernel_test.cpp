// A kernel built without NUMA (CONFIG_NUMA=n, as on many arm64 boards: mbind and set_mempolicy are
// ENOSYS), made on demand with a seccomp filter in a child process. All memory is node 0's there,
// so a placement on node 0 holds; one on another node is still an error.
#include "kernel/kernel_test.h"

#include "os/os.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <iostream>

namespace xmem::testing {
namespace {

bool refuseNumaSystemCalls() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mbind, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_set_mempolicy, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

[[noreturn]] void placeWithoutNuma() {
  if (!refuseNumaSystemCalls()) std::_Exit(10);
  if (::syscall(SYS_set_mempolicy, 0, nullptr, 0UL) == 0 || errno != ENOSYS) std::_Exit(11);  // the filter holds
  VirtualMemoryOptions options;
  options.size = 4 * MiB;
  options.hugePages = false;
  options.node = 0;
  options.numaPolicy = NumaPolicy::Bind;
  try {
    VirtualMemory memory(options);
    memory.data()[0] = 1;
    if (!memory.report().bindError.empty()) std::_Exit(12);
  } catch (const Error& error) {
    std::cerr << "bound to node 0 failed: " << error.what() << '\n';
    std::_Exit(13);
  }
  auto& platform = os::current();
  if (!platform.bindThreadMemory({NumaPolicy::Bind, NodeSet{0}}).ok()) std::_Exit(14);
  if (!platform.bindThreadMemory({}).ok()) std::_Exit(15);
  if (platform.bindThreadMemory({NumaPolicy::Bind, NodeSet{1}}).ok()) std::_Exit(16);
  os::MapRequest elsewhere;
  elsewhere.length = 64 * KiB;
  elsewhere.placement = {NumaPolicy::Interleave, NodeSet{0, 1}};
  os::MapResult mapped;
  if (!platform.map(elsewhere, mapped).ok()) std::_Exit(17);
  if (mapped.placementStatus.kind != os::Status::Kind::Unsupported) std::_Exit(18);
  std::_Exit(0);
}

TEST_F(KernelTest, APlacementOnNodeZeroHoldsOnAKernelWithoutNuma) {
  XMEM_REQUIRE_NATIVE_PLATFORM("fakes a Linux kernel without NUMA system calls");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(placeWithoutNuma(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace xmem::testing
