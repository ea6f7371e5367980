// Chooses the platform for this OS, in one place.
#include "os/os.h"

#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include "os/linux/linux_platform.h"
#elif defined(_WIN32)
#include "os/windows/windows_platform.h"
#elif defined(__unix__) || defined(__APPLE__)
#include "os/posix/posix_platform.h"
#else
#error "xmem has platform layers for Linux, Windows and generic POSIX systems"
#endif

namespace xmem::os {
namespace {

#if defined(__linux__)
Platform& nativePlatform() noexcept { return linuxPlatform(); }
std::string describeNativeError(int code) { return describeLinuxError(code); }
#elif defined(_WIN32)
Platform& nativePlatform() noexcept { return windowsPlatform(); }
std::string describeNativeError(int code) { return describeWindowsError(code); }
#else
Platform& nativePlatform() noexcept { return posixPlatform(); }
std::string describeNativeError(int code) { return describeErrno(code); }
#endif

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

NumaPolicy nodeLocalPolicy() noexcept {
  return current().capabilities().preferredPlacementOnly ? NumaPolicy::Preferred : NumaPolicy::Bind;
}

std::string_view toString(Status::Kind kind) noexcept {
  switch (kind) {
    case Status::Kind::Ok: return "ok";
    case Status::Kind::Unsupported: return "unsupported";
    case Status::Kind::NoMemory: return "out of memory";
    case Status::Kind::NoPermission: return "permission denied";
    case Status::Kind::Busy: return "busy";
    case Status::Kind::TryAgain: return "try again";
    case Status::Kind::Invalid: return "invalid argument";
    case Status::Kind::NotFound: return "not found";
    case Status::Kind::BadAddress: return "bad address";
    case Status::Kind::Other: return "failed";
  }
  return "?";
}

std::string Platform::describeError(int code) const { return describeNativeError(code); }

std::string Platform::describeMemlockLimit(const MemlockLimit& limit) const {
  return "RLIMIT_MEMLOCK is " + formatBytes(limit.soft) + " (hard limit " +
         (limit.hard == MemlockLimit::kUnlimited ? std::string("unlimited") : formatBytes(limit.hard)) +
         ") and this process lacks CAP_IPC_LOCK";
}

std::string describeOsError(int code) { return current().describeError(code); }

std::string describe(const Status& status) {
  return status.code != 0 ? describeOsError(status.code) : std::string(toString(status.kind));
}

std::string_view pageAnswerName(int answer) noexcept {
  switch (answer) {
    case page_answer::kNotPresent: return "not in memory";
    case page_answer::kNotMapped: return "not mapped";
    case page_answer::kBusy: return "busy";
    case page_answer::kNodeFull: return "node full";
    case page_answer::kRefused: return "refused (shared with other processes, or not movable)";
    default: return "failed";
  }
}

}  // namespace xmem::os
