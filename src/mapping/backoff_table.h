// Remembers explicit huge page sizes that failed, so the cascade does not pay for a doomed mmap
// (and, for 1 GiB pages, a slow kernel search) on every allocation.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace xmem {

class BackoffTable {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  static constexpr std::chrono::milliseconds kDefaultDelay{30'000};

  static BackoffTable& instance();

  /// Time left before `pageSize` on `node` may be tried again; nullopt when it may be tried now.
  std::optional<std::chrono::milliseconds> backoff(std::size_t pageSize, std::optional<std::uint32_t> node);
  void recordFailure(std::size_t pageSize, std::optional<std::uint32_t> node);
  void recordSuccess(std::size_t pageSize, std::optional<std::uint32_t> node);

  void setDelay(std::chrono::milliseconds delay);
  /// For tests: a clock to use instead of steady_clock (an empty function restores it).
  void setClock(Now now);
  void reset();

  /// Held across fork() (see fork_safety.h).
  void lockForFork() noexcept { mutex_.lock(); }
  void unlockAfterFork() noexcept { mutex_.unlock(); }

 private:
  using Key = std::pair<std::size_t, std::int64_t>;
  static Key key(std::size_t pageSize, std::optional<std::uint32_t> node) {
    return {pageSize, node ? static_cast<std::int64_t>(*node) : -1};
  }
  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  std::mutex mutex_;
  std::map<Key, Clock::time_point> failedAt_;
  std::chrono::milliseconds delay_ = kDefaultDelay;
  Now now_;
};

}  // namespace xmem
