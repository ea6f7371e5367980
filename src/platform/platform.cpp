// Chooses the platform for this OS, in one place.
#include "platform/platform.h"

#include <atomic>

#if defined(__linux__)
#include "platform/linux/linux_platform.h"
#else
#error "xmem has a platform layer for Linux only so far (Windows and generic POSIX are planned)"
#endif

namespace xmem {
void resetSystemInfoCache() noexcept;  // system_info.cpp
}

namespace xmem::platform {
namespace {

Platform& nativePlatform() noexcept { return linuxPlatform(); }

std::atomic<Platform*> installed{nullptr};

}  // namespace

Platform& current() noexcept {
  Platform* platform = installed.load(std::memory_order_acquire);
  return platform != nullptr ? *platform : nativePlatform();
}

ScopedPlatform::ScopedPlatform(Platform& platform) noexcept
    : previous_(installed.exchange(&platform, std::memory_order_acq_rel)) {
  resetSystemInfoCache();
}

ScopedPlatform::~ScopedPlatform() {
  installed.store(previous_, std::memory_order_release);
  resetSystemInfoCache();
}

}  // namespace xmem::platform
