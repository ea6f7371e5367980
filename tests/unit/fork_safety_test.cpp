// fork() while another thread holds one of the locks the allocation path takes: with the fork
// handlers the preload library registers, the child finds every such lock free.
#include "failure_memory.h"
#include "fork_safety.h"
#include "support/fake_platform.h"
#include "support/forwarding_platform.h"

#include <xmem/system_info.h>

#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace xmem::testing {
namespace {

using namespace std::chrono_literals;

/// A probe that takes its time, so SystemInfo's cache lock is held while the test forks.
class SlowProbe final : public ForwardingPlatform {
 public:
  using ForwardingPlatform::ForwardingPlatform;
  SystemInfo probe() override {
    probing = true;
    std::this_thread::sleep_for(300ms);
    return ForwardingPlatform::probe();
  }
  std::atomic<bool> probing{false};
};

/// Forks once `held` says a lock is held by the other thread; the child takes the path's locks.
/// True when the child finished within two seconds.
bool childFinishes(const std::atomic<bool>& held) {
  while (!held.load()) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // well inside the other thread's critical section
  const pid_t child = fork();
  if (child == 0) {
    SystemInfo::get();
    FailureMemory::instance().backoff(2 * MiB, std::nullopt);
    _exit(0);
  }
  int status = 0;
  for (int waited = 0; waited < 200; ++waited) {
    if (waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(10ms);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return false;
}

class ForkSafety : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // As the preload library does; pthread_atfork handlers cannot be removed, and need not be.
    pthread_atfork(lockForFork, unlockAfterFork, unlockAfterFork);
  }
};

TEST_F(ForkSafety, AChildForkedWhileSystemInfoIsProbedCanReadIt) {
  FakePlatform fake;
  SlowProbe slow(fake);
  platform::ScopedPlatform installed(slow);
  std::thread prober([] { SystemInfo::get(); });
  EXPECT_TRUE(childFinishes(slow.probing)) << "the child waited for a lock held by a thread it does not have";
  prober.join();
}

TEST_F(ForkSafety, AChildForkedWhileTheBackOffTableIsLockedCanUseIt) {
  std::atomic<bool> inside{false};
  // The clock is read under the table's lock: a slow clock holds it.
  FailureMemory::instance().setClock([&] {
    inside = true;
    std::this_thread::sleep_for(300ms);
    return FailureMemory::Clock::now();
  });
  FailureMemory::instance().recordFailure(2 * MiB, std::nullopt);  // slow, while nobody forks
  inside = false;
  std::thread user([] { FailureMemory::instance().backoff(2 * MiB, std::nullopt); });
  EXPECT_TRUE(childFinishes(inside)) << "the child waited for a lock held by a thread it does not have";
  user.join();
  FailureMemory::instance().reset();
}

}  // namespace
}  // namespace xmem::testing
