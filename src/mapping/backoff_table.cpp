#include "mapping/backoff_table.h"

namespace xmem {

BackoffTable& BackoffTable::instance() {
  // Never destroyed: a mapping made after the static destructors ran (a program's exit under the
  // preload) still asks it.
  static auto* table = new BackoffTable;
  return *table;
}

std::optional<std::chrono::milliseconds> BackoffTable::backoff(std::size_t pageSize,
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

void BackoffTable::recordFailure(std::size_t pageSize, std::optional<std::uint32_t> node) {
  std::lock_guard lock(mutex_);
  failedAt_[key(pageSize, node)] = now();
}

void BackoffTable::recordSuccess(std::size_t pageSize, std::optional<std::uint32_t> node) {
  std::lock_guard lock(mutex_);
  failedAt_.erase(key(pageSize, node));
}

void BackoffTable::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void BackoffTable::setClock(Now now) {
  std::lock_guard lock(mutex_);
  now_ = std::move(now);
}

void BackoffTable::reset() {
  std::lock_guard lock(mutex_);
  failedAt_.clear();
  delay_ = kDefaultDelay;
  now_ = nullptr;
}

}  // namespace xmem
