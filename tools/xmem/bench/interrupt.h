// Stopping early: Ctrl-C, SIGTERM or SIGHUP end the run after the current step, so the page counts
// are put back; a second signal stops at once (then `xmem release` puts them back).
#pragma once

#include <csignal>

namespace xmem::bench {

/// Catches the signals while it lives and puts the handlers it found back when it goes.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  using Handler = void (*)(int);
  Handler previous_[3] = {};
};

/// A signal came since the InterruptScope began.
bool interrupted();

}  // namespace xmem::bench
