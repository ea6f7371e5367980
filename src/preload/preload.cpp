// libxmem-preload.so: unmodified programs get xmem memory for their large requests.
//
// Loaded with LD_PRELOAD (or `xmem run`), it replaces the malloc family. Requests at or above the
// threshold become VirtualMemory mappings with the XMEM_PRELOAD_* policy (huge pages, node,
// lock, pre-fault); everything smaller goes to glibc's allocator untouched (__libc_malloc & co.,
// which glibc exports for allocators that wrap it). What it serves is found again on free() in a
// lock-free table keyed by address; every pointer it hands out is 2 MiB aligned, so most frees of
// glibc memory never look there.
//
// Safe before main() (initialised on first use) and after it: an atexit handler stops serving new
// requests, frees keep working (they need only munmap), and nothing here has a static destructor.
// While xmem's own code runs, a thread-local guard sends its allocations to glibc: never recursive.
// This file is Linux and glibc by nature (ELF symbol interposition).
#include <xmem/numa_memory_pool.h>
#include <xmem/placement.h>
#include <xmem/preload_policy.h>
#include <xmem/virtual_memory.h>

#include "platform/platform.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* pointer);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace xmem::preload {
namespace {

constexpr std::size_t kAlignment = 2 * MiB;  // of every pointer served: THP-ready, and the free() filter
constexpr std::size_t kSlots = 1 << 16;
constexpr std::uintptr_t kEmpty = 0;
constexpr std::uintptr_t kTombstone = 1;
constexpr std::uintptr_t kClaimed = 2;
constexpr std::size_t kLineLength = 200;
constexpr std::size_t kFreedKept = 256;

/// One allocation served: plain data, readable from a signal handler.
struct Record {
  std::uint32_t id;
  std::size_t size;
  std::size_t mapped;  ///< the mapping's size, or the pool chunk's class size
  bool pooled;
  char line[kLineLength];  ///< what it got when allocated, e.g. "2080 MiB: 2 GiB on 1 GiB pages + ..."
};

struct Slot {
  std::atomic<std::uintptr_t> key{kEmpty};
  Record record;
};

Slot table[kSlots];
std::atomic<std::size_t> liveCount{0};

// Recently freed, for the report (ring, under a spin lock that fork handlers take).
Record freedRing[kFreedKept];
std::size_t freedNext = 0;
std::atomic_flag freedLock = ATOMIC_FLAG_INIT;

std::atomic<std::uint32_t> nextId{1};
std::atomic<std::uint64_t> servedCount{0};
std::atomic<std::uint64_t> servedBytes{0};
std::atomic<std::uint64_t> currentBytes{0};
std::atomic<std::uint64_t> peakBytes{0};
std::atomic<std::uint64_t> declined{0};  // xmem could not serve: glibc did

enum State : int { kNew, kInitializing, kReady, kExiting };
std::atomic<int> state{kNew};
alignas(PreloadPolicy) unsigned char policyStorage[sizeof(PreloadPolicy)];
const PreloadPolicy* policy = nullptr;  // constructed in place, never destroyed
using UsableSize = std::size_t (*)(void*);
UsableSize glibcUsableSize = nullptr;

// The pool for 2 MiB..64 MiB requests: made on first use, never destroyed. A forked child stops
// using it (another thread may have held one of its locks at fork time) and leaks what it frees.
std::atomic<NumaMemoryPool*> pool{nullptr};
std::atomic_flag poolMaking = ATOMIC_FLAG_INIT;
std::atomic<bool> poolAbandoned{false};

__attribute__((tls_model("initial-exec"))) thread_local bool insideXmem = false;

/// While xmem's code runs on this thread, its own allocations go to glibc.
class Guard {
 public:
  Guard() noexcept : previous_(insideXmem) { insideXmem = true; }
  ~Guard() { insideXmem = previous_; }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  bool previous_;
};

// ---- writing without allocating (the signal report) ----

class LineWriter {
 public:
  explicit LineWriter(int fd) noexcept : fd_(fd) {}
  ~LineWriter() { flush(); }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  LineWriter& text(const char* value) noexcept {
    while (*value != '\0') put(*value++);
    return *this;
  }
  LineWriter& number(std::uint64_t value) noexcept {
    char digits[24];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) put(digits[--count]);
    return *this;
  }
  LineWriter& bytes(std::uint64_t value) noexcept {
    if (value >= GiB && value % GiB == 0) return number(value / GiB).text(" GiB");
    if (value >= MiB) return number(value / MiB).text(" MiB");
    if (value >= KiB) return number(value / KiB).text(" KiB");
    return number(value).text(" bytes");
  }
  void flush() noexcept {
    std::size_t done = 0;
    while (done < used_) {
      const ssize_t wrote = ::write(fd_, buffer_ + done, used_ - done);
      if (wrote <= 0 && errno != EINTR) break;
      if (wrote > 0) done += static_cast<std::size_t>(wrote);
    }
    used_ = 0;
  }

 private:
  void put(char c) noexcept {
    if (used_ == sizeof buffer_) flush();
    buffer_[used_++] = c;
  }
  int fd_;
  char buffer_[1024];
  std::size_t used_ = 0;
};

void copyLine(char (&to)[kLineLength], const std::string& from) noexcept {
  const std::size_t length = std::min(from.size(), kLineLength - 1);
  std::memcpy(to, from.data(), length);
  to[length] = '\0';
}

// ---- the table of served allocations ----

std::size_t slotOf(std::uintptr_t address) noexcept {
  return static_cast<std::size_t>(((address >> 21) * 0x9E3779B97F4A7C15ULL) >> 48) & (kSlots - 1);
}

Slot* find(const void* pointer) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  for (std::size_t probe = 0, i = slotOf(address); probe < kSlots; ++probe, i = (i + 1) & (kSlots - 1)) {
    const auto key = table[i].key.load(std::memory_order_acquire);
    if (key == address) return &table[i];
    if (key == kEmpty) return nullptr;
  }
  return nullptr;
}

Slot* claim(std::uintptr_t address) noexcept {
  for (std::size_t probe = 0, i = slotOf(address); probe < kSlots; ++probe, i = (i + 1) & (kSlots - 1)) {
    auto key = table[i].key.load(std::memory_order_relaxed);
    if ((key == kEmpty || key == kTombstone) &&
        table[i].key.compare_exchange_strong(key, kClaimed, std::memory_order_acquire))
      return &table[i];
  }
  return nullptr;
}

/// The slot of a pointer this library served, or nullptr (most glibc pointers fail the first test).
Slot* servedSlot(const void* pointer) noexcept {
  if (pointer == nullptr || (reinterpret_cast<std::uintptr_t>(pointer) & (kAlignment - 1)) != 0 ||
      liveCount.load(std::memory_order_relaxed) == 0)
    return nullptr;
  return find(pointer);
}

void lockFreed() noexcept {
  while (freedLock.test_and_set(std::memory_order_acquire)) {
  }
}
void unlockFreed() noexcept { freedLock.clear(std::memory_order_release); }

// ---- the report ----

int reportFd() noexcept {
  if (policy == nullptr || policy->reportFile.empty()) return STDERR_FILENO;
  const int fd = ::open(policy->reportFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return fd >= 0 ? fd : STDERR_FILENO;
}

// `detailed`: ask the page tables where each live allocation is now (allocates: not in a signal).
void writeReport(bool detailed) noexcept {
  const int fd = reportFd();
  {
    LineWriter out(fd);
    out.text("xmem-preload: ").number(servedCount.load()).text(" large allocation(s) served (")
        .bytes(servedBytes.load()).text("), ").number(liveCount.load()).text(" live (")
        .bytes(currentBytes.load()).text("), peak ").bytes(peakBytes.load()).text(", ")
        .number(declined.load()).text(" left to the system allocator\n");
    for (auto& slot : table) {
      const auto key = slot.key.load(std::memory_order_acquire);
      if (key <= kClaimed) continue;
      out.text("  #").number(slot.record.id).text(" live  ").text(slot.record.line).text("\n");
      if (!detailed) continue;
      Guard guard;
      try {
        const auto now = where(reinterpret_cast<void*>(key), slot.record.size).summary();
        out.text("        now: ").text(now.c_str()).text("\n");
      } catch (...) {
        out.text("        now: the page tables could not be read\n");
      }
    }
    lockFreed();
    for (std::size_t i = 0; i < kFreedKept; ++i) {
      const auto& record = freedRing[(freedNext + i) % kFreedKept];
      if (record.id != 0) out.text("  #").number(record.id).text(" freed ").text(record.line).text("\n");
    }
    unlockFreed();
  }
  if (fd != STDERR_FILENO) ::close(fd);
}

void onReportSignal(int) { writeReport(false); }

void atExit() {
  state.store(kExiting, std::memory_order_release);  // from here on, large requests go to glibc
  if (policy->reportAtExit) writeReport(true);
}

// ---- set-up ----

void initialize() {
  Guard guard;
  auto parsed = parsePreloadPolicy([](const char* name) { return ::getenv(name); });
  policy = new (policyStorage) PreloadPolicy(std::move(parsed.policy));
  for (const auto& error : parsed.errors) {
    LineWriter out(STDERR_FILENO);
    out.text("xmem-preload: ").text(error.c_str()).text("; using the default\n");
  }
  glibcUsableSize = reinterpret_cast<UsableSize>(::dlsym(RTLD_NEXT, "malloc_usable_size"));
  ::pthread_atfork(lockFreed, unlockFreed, [] {
    unlockFreed();
    poolAbandoned.store(true, std::memory_order_relaxed);
  });
  std::atexit(atExit);
  if (policy->reportOnSignal) {
    struct sigaction action {};
    action.sa_handler = onReportSignal;
    action.sa_flags = SA_RESTART;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(policy->reportSignal, &action, nullptr);
  }
}

bool ready() noexcept {
  const int now = state.load(std::memory_order_acquire);
  if (now == kReady) return !insideXmem;
  if (now != kNew) return false;  // being set up (maybe by this very thread), or exiting
  int expected = kNew;
  if (!state.compare_exchange_strong(expected, kInitializing)) return false;
  try {
    initialize();
  } catch (...) {
    state.store(kExiting);  // could not read its policy: serve nothing, stay out of the way
    return false;
  }
  state.store(kReady, std::memory_order_release);
  return !insideXmem;
}

// ---- serving ----

VirtualMemoryOptions optionsFor(std::size_t size, std::size_t alignment) {
  VirtualMemoryOptions options;
  options.size = size;
  options.alignment = std::max(alignment, kAlignment);
  options.hugePages = policy->hugePages;
  options.oneGbPages = policy->oneGbPages && size >= policy->oneGbAbove;
  options.transparentHugePages = policy->transparentHugePages;
  switch (policy->nodeMode) {
    case PreloadPolicy::NodeMode::Local:
      // The allocating thread's node: pre-faulting threads run everywhere and must not decide.
      options.node = platform::current().currentNode();
      options.numaPolicy = NumaPolicy::Preferred;
      break;
    case PreloadPolicy::NodeMode::Fixed:
      options.node = policy->node;
      options.numaPolicy = NumaPolicy::Bind;
      break;
    case PreloadPolicy::NodeMode::Interleave: options.numaPolicy = NumaPolicy::Interleave; break;
    case PreloadPolicy::NodeMode::None: break;
  }
  options.lock = policy->lock ? LockPolicy::BestEffort : LockPolicy::None;
  if (policy->prefaultAbove != 0 && size >= policy->prefaultAbove) options.prefaultThreads = VirtualMemory::kAllCores;
  return options;
}

/// Publishes a served block in the table; false when the table is full.
bool remember(void* data, std::size_t size, std::size_t capacity, bool pooled, const std::string& line) noexcept {
  Slot* slot = claim(reinterpret_cast<std::uintptr_t>(data));
  if (slot == nullptr) return false;
  slot->record.id = nextId.fetch_add(1, std::memory_order_relaxed);
  slot->record.size = size;
  slot->record.mapped = capacity;
  slot->record.pooled = pooled;
  copyLine(slot->record.line, line);
  slot->key.store(reinterpret_cast<std::uintptr_t>(data), std::memory_order_release);
  liveCount.fetch_add(1, std::memory_order_relaxed);
  servedCount.fetch_add(1, std::memory_order_relaxed);
  servedBytes.fetch_add(size, std::memory_order_relaxed);
  const auto now = currentBytes.fetch_add(size, std::memory_order_relaxed) + size;
  auto peak = peakBytes.load(std::memory_order_relaxed);
  while (now > peak && !peakBytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  return true;
}

NumaMemoryPool* poolForRequests() {
  if (auto* made = pool.load(std::memory_order_acquire)) return made;
  if (poolMaking.test_and_set(std::memory_order_acquire)) return nullptr;  // another thread makes it
  MemoryPoolOptions perNode;
  auto topology = Topology::fromKernel();
  perNode.capacity = policy->poolCapacity * topology.size();  // the pool shares it out per node
  perNode.hugePages = policy->hugePages;
  perNode.transparentHugePages = policy->transparentHugePages;
  perNode.lock = policy->lock ? LockPolicy::BestEffort : LockPolicy::None;
  perNode.name = "xmem:preload";
  auto* made = new NumaMemoryPool(perNode, std::move(topology));
  pool.store(made, std::memory_order_release);
  return made;
}

bool poolable(std::size_t size, std::size_t alignment) noexcept {
  // Up to the largest size class, and below the pre-fault size: those are datasets, mapped on their own.
  const bool belowPrefault = policy->prefaultAbove == 0 || size < policy->prefaultAbove;
  return policy->poolCapacity != 0 && size >= kAlignment && size <= kPoolMaxChunk && belowPrefault && alignment <= kAlignment &&
         (policy->nodeMode == PreloadPolicy::NodeMode::Local || policy->nodeMode == PreloadPolicy::NodeMode::Fixed) &&
         !poolAbandoned.load(std::memory_order_relaxed);
}

/// A pool chunk for the request, or nullptr.
void* servePooled(std::size_t size) {
  NumaMemoryPool* from = poolForRequests();
  if (from == nullptr) return nullptr;
  const bool fixed = policy->nodeMode == PreloadPolicy::NodeMode::Fixed;
  const std::uint32_t node = fixed ? policy->node : platform::current().currentNode();
  auto chunk = from->tryAllocate(size, node);
  if (!chunk.ok()) return nullptr;
  auto* data = chunk.value().address;
  // Bound means bound; and every pointer served must pass free()'s 2 MiB test.
  if ((fixed && chunk.value().node != node) || reinterpret_cast<std::uintptr_t>(data) % kAlignment != 0 ||
      !remember(data, size, MemoryPool::classSize(size), true,
                formatBytes(size) + ": a " + formatBytes(MemoryPool::classSize(size)) + " chunk of node " +
                    std::to_string(chunk.value().node) + "'s pool" +
                    (from->isHugePages(chunk.value().node) ? " (huge pages)" : " (THP or 4 KiB)"))) {
    from->deallocate(data, size);
    return nullptr;
  }
  return data;
}

/// Memory for the request, or nullptr when xmem cannot serve it (glibc will). `reused`: it may
/// hold old contents (a pool chunk), so calloc() must clear it.
void* serve(std::size_t size, std::size_t alignment, bool* reused = nullptr) noexcept {
  Guard guard;
  try {
    if (poolable(size, alignment)) {
      if (void* chunk = servePooled(size)) {
        if (reused != nullptr) *reused = true;
        return chunk;
      }
    }
    auto allocated = VirtualMemory::tryAllocate(optionsFor(size, alignment));
    if (allocated.ok()) {
      auto& memory = allocated.value();
      if (remember(memory.data(), size, memory.mappedSize(), false, memory.report().summary())) return memory.detach();
    }
  } catch (...) {
  }
  declined.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void release(Slot* slot) noexcept {
  const auto address = slot->key.load(std::memory_order_acquire);
  Record record = slot->record;
  if (policy->reportAtExit || policy->reportOnSignal) {
    // For the report: what it was on when it was given back (the line said what it got at first).
    Guard guard;
    try {
      copyLine(record.line, "last seen " + where(reinterpret_cast<void*>(address), record.size).summary());
    } catch (...) {
    }
  }
  slot->key.store(kTombstone, std::memory_order_release);  // before unmapping: the address may come back at once
  liveCount.fetch_sub(1, std::memory_order_relaxed);
  currentBytes.fetch_sub(record.size, std::memory_order_relaxed);
  if (!record.pooled) {
    VirtualMemory::unmapDetached(reinterpret_cast<void*>(address), record.mapped);
  } else if (!poolAbandoned.load(std::memory_order_relaxed)) {
    Guard guard;
    pool.load(std::memory_order_acquire)->deallocate(reinterpret_cast<void*>(address), record.size);
  }
  lockFreed();
  freedRing[freedNext] = record;
  freedNext = (freedNext + 1) % kFreedKept;
  unlockFreed();
}

bool wantsXmem(std::size_t size) noexcept { return ready() && size >= policy->threshold; }

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  if (wantsXmem(size))
    if (void* served = serve(size, alignment)) return served;
  return alignment <= alignof(std::max_align_t) ? __libc_malloc(size) : __libc_memalign(alignment, size);
}

bool validAlignment(std::size_t alignment) noexcept {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

}  // namespace
}  // namespace xmem::preload

using namespace xmem::preload;

#define XMEM_EXPORT extern "C" __attribute__((visibility("default")))

XMEM_EXPORT void* malloc(std::size_t size) {
  void* pointer = allocate(size, alignof(std::max_align_t));
  if (pointer == nullptr) errno = ENOMEM;
  return pointer;
}

XMEM_EXPORT void free(void* pointer) {
  if (Slot* slot = servedSlot(pointer)) release(slot);
  else if (pointer != nullptr) __libc_free(pointer);
}

XMEM_EXPORT void* calloc(std::size_t count, std::size_t size) {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (wantsXmem(total)) {
    bool reused = false;
    if (void* served = serve(total, alignof(std::max_align_t), &reused)) {
      if (reused) std::memset(served, 0, total);  // new mappings read as zero; pool chunks may not
      return served;
    }
  }
  return __libc_calloc(count, size);
}

XMEM_EXPORT void* realloc(void* pointer, std::size_t size) {
  if (pointer == nullptr) return malloc(size);
  Slot* slot = servedSlot(pointer);
  if (slot == nullptr) {
    if (!wantsXmem(size) || size == 0) return __libc_realloc(pointer, size);
    // Growing past the threshold: move it to xmem memory.
    void* grown = serve(size, alignof(std::max_align_t));
    if (grown == nullptr) return __libc_realloc(pointer, size);
    const std::size_t old = glibcUsableSize != nullptr ? glibcUsableSize(pointer) : 0;
    std::memcpy(grown, pointer, std::min(old, size));
    __libc_free(pointer);
    return grown;
  }
  if (size == 0) {
    free(pointer);
    return nullptr;
  }
  const bool sameCapacity = !slot->record.pooled || xmem::MemoryPool::classSize(size) == slot->record.mapped;
  if (size <= slot->record.mapped && size >= slot->record.size / 2 && sameCapacity) {
    currentBytes.fetch_add(size, std::memory_order_relaxed);  // modulo arithmetic: shrinking works too
    currentBytes.fetch_sub(slot->record.size, std::memory_order_relaxed);
    slot->record.size = size;  // fits, and not worth moving
    return pointer;
  }
  void* moved = malloc(size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, pointer, std::min(size, slot->record.size));
  release(slot);
  return moved;
}

XMEM_EXPORT void* reallocarray(void* pointer, std::size_t count, std::size_t size) {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(pointer, total);
}

XMEM_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (!validAlignment(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* pointer = allocate(size, alignment);
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}

XMEM_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (!validAlignment(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  void* pointer = allocate(size, alignment);
  if (pointer == nullptr) errno = ENOMEM;
  return pointer;
}

// glibc rounds a memalign() alignment up to a power of two; so do we.
XMEM_EXPORT void* memalign(std::size_t alignment, std::size_t size) {
  return aligned_alloc(std::bit_ceil(std::max(alignment, sizeof(void*))), size);
}

XMEM_EXPORT void* valloc(std::size_t size) {
  return aligned_alloc(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), size);
}

XMEM_EXPORT void* pvalloc(std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return aligned_alloc(page, xmem::alignUp(std::max<std::size_t>(size, 1), page));
}

XMEM_EXPORT std::size_t malloc_usable_size(void* pointer) {
  if (pointer == nullptr) return 0;
  if (Slot* slot = servedSlot(pointer)) return slot->record.mapped;
  if (glibcUsableSize == nullptr) {
    ready();
    if (glibcUsableSize == nullptr) return 0;
  }
  return glibcUsableSize(pointer);
}
