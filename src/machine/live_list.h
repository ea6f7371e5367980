// A process-wide list of live things (allocations, pools) that monitoring copies out: a doubly
// linked list of nodes the caller allocates, under one lock, so linking and unlinking are O(1)
// and never allocate under it; copyOut() reserves room first and copies under the lock. One list
// per type, never destroyed (things may go during exit); its lock is held across fork() by
// handlers of its own, so a child forked while a monitor reads it finds it free.
#pragma once

#include "os/os.h"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

namespace xmem {

template <typename T>
struct LiveListNode {
  T value;
  LiveListNode* previous = nullptr;
  LiveListNode* next = nullptr;
};

template <typename T>
class LiveList {
 public:
  using Node = LiveListNode<T>;

  static LiveList& instance() noexcept {
    static LiveList* list = [] {
      auto* made = new LiveList;
      os::atFork([] { instance().mutex_.lock(); }, [] { instance().mutex_.unlock(); }, [] { instance().mutex_.unlock(); });
      return made;
    }();
    return *list;
  }

  void link(Node* node) noexcept {
    std::lock_guard lock(mutex_);
    node->previous = tail_;
    node->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = node;
    tail_ = node;
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  void unlink(Node* node) noexcept {
    std::lock_guard lock(mutex_);
    (node->previous != nullptr ? node->previous->next : head_) = node->next;
    (node->next != nullptr ? node->next->previous : tail_) = node->previous;
    count_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// `visit(value)` for each, oldest first, under the lock.
  template <typename Visit>
  void forEach(Visit&& visit) {
    std::lock_guard lock(mutex_);
    for (Node* node = head_; node != nullptr; node = node->next) visit(node->value);
  }

  /// `copy(value)` of each, oldest first, into room reserved before the lock is taken.
  template <typename U, typename Copy>
  std::vector<U> copyOut(Copy&& copy) {
    std::vector<U> out;
    for (;;) {
      out.reserve(size() + 8);
      std::lock_guard lock(mutex_);
      if (count_.load(std::memory_order_relaxed) > out.capacity()) continue;
      for (Node* node = head_; node != nullptr; node = node->next) out.push_back(copy(node->value));
      return out;
    }
  }

  std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  LiveList() = default;
  std::mutex mutex_;
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  std::atomic<std::size_t> count_{0};
};

}  // namespace xmem
