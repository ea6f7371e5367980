#include "interrupt.h"

#include <unistd.h>

#include <atomic>

namespace xmem::bench {
namespace {

#ifdef SIGHUP
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
#else  // Windows: Ctrl-C and termination only
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGINT};
#endif
std::atomic<bool> stopping{false};

void onInterrupt(int signal) {
  stopping.store(true);
  constexpr char kMessage[] = "\n... stopping after this step; the page counts will be put back "
                              "(a second signal stops at once: then run `xmem release`)\n";
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  std::signal(signal, SIG_DFL);  // the second one is the kernel's default: stop now
}

}  // namespace

InterruptScope::InterruptScope() {
  stopping = false;
  for (int i = 0; i < 3; ++i) previous_[i] = std::signal(kSignals[i], onInterrupt);
}

InterruptScope::~InterruptScope() {
  for (int i = 0; i < 3; ++i)
    if (previous_[i] != SIG_ERR) std::signal(kSignals[i], previous_[i]);
}

bool interrupted() { return stopping.load(); }

}  // namespace xmem::bench
