// fork() while another thread holds one of the locks the allocation path takes: with the fork
// handlers the preload library registers, the child finds every such lock free.
#include "mapping/backoff_table.h"
#include "mapping/fork_safety.h"
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

/// Holds a lock for the test: says so, then waits until the parent has forked (or, with the fork
/// handlers, until they have waited long enough for it: fork() cannot return while it holds it).
struct Hold {
  std::atomic<bool> held{false};
  std::atomic<bool> forked{false};
  void whileHeld() {
    held = true;
    const auto until = std::chrono::steady_clock::now() + 500ms;
    while (!forked.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  }
};

/// A probe that holds SystemInfo's cache lock (get() probes under it) as long as the test wants.
class SlowProbe final : public ForwardingPlatform {
 public:
  SlowProbe(os::Platform& target, Hold& hold) : ForwardingPlatform(target), hold_(hold) {}
  MachineFacts probe() override {
    hold_.whileHeld();
    return ForwardingPlatform::probe();
  }

 private:
  Hold& hold_;
};

/// Forks once another thread holds the lock; the child takes the path's locks. True when the
/// child ended within two seconds.
bool childFinishes(Hold& hold) {
  while (!hold.held.load()) std::this_thread::yield();
  const pid_t child = fork();  // the lock is held now, unless the fork handlers waited for it
  if (child == 0) {
    SystemInfo::get();
    BackoffTable::instance().backoff(2 * MiB, std::nullopt);
    _exit(0);
  }
  hold.forked = true;
  int status = 0;
  for (int waited = 0; waited < 200; ++waited) {
    // Any exit code: the point is that it got past the locks (ThreadSanitizer makes a child's exit
    // 66 for the parent's threads it does not have).
    if (waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status);
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
  Hold hold;
  SlowProbe slow(fake, hold);
  os::ScopedPlatform installed(slow);
  std::thread prober([] { SystemInfo::get(); });
  EXPECT_TRUE(childFinishes(hold)) << "the child waited for a lock held by a thread it does not have";
  prober.join();
}

TEST_F(ForkSafety, AChildForkedWhileTheBackOffTableIsLockedCanUseIt) {
  Hold hold;
  std::atomic<bool> holding{false};
  // The clock is read under the table's lock: a clock that waits holds it.
  BackoffTable::instance().setClock([&] {
    if (holding.load()) hold.whileHeld();
    return BackoffTable::Clock::now();
  });
  BackoffTable::instance().recordFailure(2 * MiB, std::nullopt);
  holding = true;
  std::thread user([] { BackoffTable::instance().backoff(2 * MiB, std::nullopt); });
  EXPECT_TRUE(childFinishes(hold)) << "the child waited for a lock held by a thread it does not have";
  user.join();
  BackoffTable::instance().reset();
}

}  // namespace
}  // namespace xmem::testing
