#include "mapping/prefault.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <thread>

namespace xmem {
namespace {

// Big enough that the per-call cost vanishes, small enough that threads finish together.
constexpr std::size_t kChunk = 32 * MiB;

struct Chunk {
  std::uint8_t* address;
  std::size_t length;
};

std::vector<Chunk> splitIntoChunks(const std::vector<PrefaultRange>& ranges) {
  std::vector<Chunk> chunks;
  for (const auto& range : ranges) {
    std::size_t step = std::max(alignUp(kChunk, range.granularity), range.granularity);
    for (std::size_t offset = 0; offset < range.length; offset += step)
      chunks.push_back({range.address + offset, std::min(step, range.length - offset)});
  }
  return chunks;
}

}  // namespace

void startStdThread(std::vector<std::thread>& helpers, const std::function<void()>& work) { helpers.emplace_back(work); }

PrefaultResult prefault(os::Platform& platform, const std::vector<PrefaultRange>& ranges, unsigned threads,
                        const PrefaultProgress& progress, const HelperStarter& start) {
  auto started = std::chrono::steady_clock::now();
  auto chunks = splitIntoChunks(ranges);
  PrefaultResult result;
  result.threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(chunks.size(), 1)));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex resultMutex;
  std::size_t total = 0;
  for (const auto& chunk : chunks) total += chunk.length;
  std::size_t done = 0;  // guarded by resultMutex, as are the progress calls
  auto work = [&] {
    for (std::size_t index; !failed.load(std::memory_order_relaxed) &&
                            (index = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();) {
      const Chunk& chunk = chunks[index];
      if (auto status = platform.populate(chunk.address, chunk.length); !status) {
        std::lock_guard lock(resultMutex);
        if (!failed.exchange(true)) result.status = status;
      } else if (progress) {
        std::lock_guard lock(resultMutex);
        done += chunk.length;
        try {
          progress(done, total);
        } catch (...) {
          // A progress display that fails must not stop the faulting.
        }
      }
    }
  };
  std::vector<std::thread> helpers;
  try {
    helpers.reserve(result.threads - 1);
    const std::function<void()> task = work;
    while (helpers.size() + 1 < result.threads) start(helpers, task);
  } catch (...) {
    // std::system_error (EAGAIN: out of threads, or of memory for a stack) or std::bad_alloc: the
    // threads started so far and this one share the work. Never std::terminate from a joinable thread.
  }
  result.threads = static_cast<unsigned>(helpers.size() + 1);
  work();
  for (auto& helper : helpers) helper.join();
  result.time = std::chrono::steady_clock::now() - started;
  return result;
}

}  // namespace xmem
