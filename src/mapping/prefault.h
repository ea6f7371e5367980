// Faulting a mapping in with several threads: the kernel zeroes each page at first touch, and one
// core zeroes only a few GB/s, so a 2 GiB dataset is ready much sooner when all cores share it.
#pragma once

#include "os/os.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace xmem {

struct PrefaultRange {
  std::uint8_t* address = nullptr;
  std::size_t length = 0;
  std::size_t granularity = 0;  ///< chunks are multiples of this (the range's page size)
};

struct PrefaultResult {
  os::Status status;
  unsigned threads = 0;
  std::chrono::nanoseconds time{0};
};

/// Told (done, total) bytes after each chunk, one call at a time.
using PrefaultProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Appends one helper thread running `work` to `helpers`, or throws as std::thread does when the
/// system will not start one (then the threads that did start share the work). Tests inject
/// starters that fail.
using HelperStarter = std::function<void(std::vector<std::thread>& helpers, const std::function<void()>& work)>;
void startStdThread(std::vector<std::thread>& helpers, const std::function<void()>& work);

/// Populate all ranges with up to `threads` threads (0 or 1: the calling thread only). Stops at
/// the first error. A helper that cannot be started means fewer threads, never an exception:
/// this runs inside malloc() under the preload library.
PrefaultResult prefault(os::Platform& platform, const std::vector<PrefaultRange>& ranges, unsigned threads,
                        const PrefaultProgress& progress = {}, const HelperStarter& start = startStdThread);

}  // namespace xmem
