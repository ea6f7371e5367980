#include "failure_memory.h"

namespace xmem {

FailureMemory& FailureMemory::instance() {
  static FailureMemory memory;
  return memory;
}

std::optional<std::chrono::milliseconds> FailureMemory::backoff(std::size_t pageSize,
                                                                std::optional<std::uint32_t> node) {
  std::lock_guard lock(mutex_);
  auto found = failedAt_.find(key(pageSize, node));
  if (found == failedAt_.end()) return std::nullopt;
  auto elapsed = now() - found->second;
  if (elapsed >= delay_) {
    failedAt_.erase(found);
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay_ - elapsed);
}

void FailureMemory::recordFailure(std::size_t pageSize, std::optional<std::uint32_t> node) {
  std::lock_guard lock(mutex_);
  failedAt_[key(pageSize, node)] = now();
}

void FailureMemory::recordSuccess(std::size_t pageSize, std::optional<std::uint32_t> node) {
  std::lock_guard lock(mutex_);
  failedAt_.erase(key(pageSize, node));
}

void FailureMemory::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void FailureMemory::setClock(Now now) {
  std::lock_guard lock(mutex_);
  now_ = std::move(now);
}

void FailureMemory::reset() {
  std::lock_guard lock(mutex_);
  failedAt_.clear();
  delay_ = kDefaultDelay;
  now_ = nullptr;
}

}  // namespace xmem
