// A value read from the platform once and kept: SystemInfo, the Topology. Read again when a test
// installs another platform (os::platformGeneration() moves), or when refreshed.
#pragma once

#include "os/os.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace xmem {

template <typename T>
class PlatformCache {
 public:
  /// The kept value, read with `read()` (which returns a T) on first use.
  template <typename Read>
  std::shared_ptr<const T> get(Read&& read) {
    std::lock_guard lock(mutex_);
    const auto generation = os::platformGeneration();
    if (!value_ || readUnder_ != generation) {
      // Marked current only once read: a read that throws leaves the next call to try again.
      value_ = std::make_shared<const T>(read());
      readUnder_ = generation;
    }
    return value_;
  }
  /// A fresh value, read outside the lock, which then replaces the kept one.
  template <typename Read>
  std::shared_ptr<const T> refresh(Read&& read) {
    const auto generation = os::platformGeneration();
    auto fresh = std::make_shared<const T>(read());
    std::lock_guard lock(mutex_);
    value_ = fresh;
    readUnder_ = generation;
    return fresh;
  }
  /// Held across fork() (machine_locks.h).
  void lock() noexcept { mutex_.lock(); }
  void unlock() noexcept { mutex_.unlock(); }

 private:
  std::mutex mutex_;
  std::shared_ptr<const T> value_;
  std::uint64_t readUnder_ = 0;  // the os::platformGeneration() it was read under
};

/// A T whose destructor never runs: for caches that code run after the static destructors still
/// reads (the preload's report at exit, late frees). A plain global would be destroyed first, and
/// read destroyed.
template <typename T>
union NeverDestroyed {
  constexpr NeverDestroyed() : value() {}
  ~NeverDestroyed() {}
  T value;
};

/// Built at compile time where std::mutex allows it, so that a malloc before this library's
/// initializers ran (the preload's, from a dependency's constructor) finds the caches ready.
/// mingw's std::mutex is not constexpr; Windows has no preload.
#if defined(_WIN32)
#define XMEM_CACHE_CONSTINIT
#else
#define XMEM_CACHE_CONSTINIT constinit
#endif

}  // namespace xmem
