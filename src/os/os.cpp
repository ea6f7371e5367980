// Chooses the platform for this OS, in one place.
#include "os/os.h"

#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include "os/linux/linux_platform.h"
#else
#error "xmem has a platform layer for Linux only so far (Windows and generic POSIX are planned)"
#endif

namespace xmem::os {
namespace {

Platform& nativePlatform() noexcept { return linuxPlatform(); }

std::atomic<Platform*> installed{nullptr};
std::atomic<std::uint64_t> generation{0};

}  // namespace

std::uint64_t platformGeneration() noexcept { return generation.load(std::memory_order_acquire); }

Platform& current() noexcept {
  Platform* platform = installed.load(std::memory_order_acquire);
  return platform != nullptr ? *platform : nativePlatform();
}

ScopedPlatform::ScopedPlatform(Platform& platform) noexcept
    : previous_(installed.exchange(&platform, std::memory_order_acq_rel)) {
  generation.fetch_add(1, std::memory_order_acq_rel);
}

ScopedPlatform::~ScopedPlatform() {
  installed.store(previous_, std::memory_order_release);
  generation.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace xmem::os
