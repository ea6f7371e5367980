// libxmem-preload.so: unmodified programs get xmem memory for their large requests.
//
// Loaded with LD_PRELOAD (or `xmem run`), it replaces the malloc family. Requests at or above the
// threshold become VirtualMemory mappings with the XMEM_PRELOAD_* policy (huge pages, node,
// lock, pre-fault); everything smaller goes to glibc's allocator untouched (__libc_malloc & co.,
// which glibc exports for allocators that wrap it). What it serves is found again on free() in a
// lock-free table keyed by address; every pointer it hands out is 2 MiB aligned, so most frees of
// glibc memory never look there.
//
// Programs that never make a large request must not notice us: each entry point's first test is
// one relaxed load and a compare (the request is below `serveFrom`, or the pointer is not 2 MiB
// aligned), then a tail call into glibc. Everything else lives out of line.
//
// Safe before main() (initialised on first use) and after it: an atexit handler stops serving new
// requests, frees keep working (they need only munmap), and nothing here has a static destructor.
// While xmem's own code runs, a thread-local guard sends its allocations to glibc: never recursive.
// Across fork(), every lock the serving path can take is held by the forking thread (pthread_atfork),
// so the child finds them free; the child leaves the pool alone. The report signal's handler takes
// no lock and allocates nothing.
// This file is Linux and glibc by nature (ELF symbol interposition).
#include <xmem/numa_memory_pool.h>
#include <xmem/placement.h>
#include <xmem/preload_policy.h>
#include <xmem/virtual_memory.h>

#include "mapping/backoff_table.h"
#include "monitor/published_records.h"
#include "mapping/fork_safety.h"
#include "os/os.h"
#include "preload/freed_ring.h"
#include "preload/served_table.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
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
constexpr std::size_t kSlots = published::kSlots;  // one published record per served block
constexpr std::size_t kLineLength = 200;
constexpr std::size_t kFreedKept = 256;
constexpr std::size_t kNodesKnown = 1024;

/// One allocation served: plain data, readable from a signal handler.
struct Record {
  std::uint32_t id;
  std::size_t size;
  std::size_t mapped;  ///< the mapping's size, or the pool chunk's class size
  bool pooled;
  bool hugePool;       ///< pooled: its pool is on hugetlb pages
  std::uint32_t node;  ///< pooled: the node whose pool served it
  std::size_t poolSize;  ///< pooled: the size it was taken from the pool with (to give it back so)
  char line[kLineLength];  ///< mappings: what it got, e.g. "2080 MiB: 2 GiB on 1 GiB pages + ..."
};

using Table = ServedTable<Record, kSlots>;
using Slot = Table::Slot;
Table table;

// Recently freed, for the report only: read without a lock by the report's signal handler.
FreedRing<Record, kFreedKept> freed;

// For the report only, so counted only when a report is asked for: each is a locked instruction
// on the serving path.
std::atomic<std::uint32_t> nextId{1};
std::atomic<std::uint64_t> servedCount{0};
std::atomic<std::uint64_t> servedBytes{0};
std::atomic<std::uint64_t> currentBytes{0};
std::atomic<std::uint64_t> peakBytes{0};
std::atomic<std::uint64_t> declined{0};  // xmem could not serve: glibc did

enum State : int { kNew, kInitializing, kReady, kExiting };
std::atomic<int> state{kNew};
// Requests from this size on take the slow path: 0 until set-up ran (so the first request of any
// size runs it), the policy's threshold while serving, SIZE_MAX once exiting or unable to serve.
std::atomic<std::size_t> serveFrom{0};
alignas(PreloadPolicy) unsigned char policyStorage[sizeof(PreloadPolicy)];
const PreloadPolicy* policy = nullptr;  // constructed in place, never destroyed
using UsableSize = std::size_t (*)(void*);
UsableSize glibcUsableSize = nullptr;
using AlignedAlloc = void* (*)(std::size_t, std::size_t);
std::atomic<AlignedAlloc> glibcAlignedAlloc{nullptr};  // glibc's own, not the next preload's

// The pool for 2 MiB..64 MiB requests: made on first use, never destroyed. A forked child stops
// using it (another thread may have held one of its locks at fork time) and leaks what it frees.
std::atomic<NumaMemoryPool*> pool{nullptr};
std::atomic_flag poolMaking = ATOMIC_FLAG_INIT;
std::atomic<bool> poolAbandoned{false};
// Per node: -1 not known yet, else whether its pool is on hugetlb pages (asked once per node).
std::atomic<std::int8_t> poolHugeByNode[kNodesKnown];

// A thread's last freed pool chunk of each class from 2 to 16 MiB: a program that frees a buffer
// and asks for one again (one per request, say) gets it back without the pool's locks, as glibc's
// tcache does for small blocks. 32 and 64 MiB chunks go back at once: too much to hold idle per
// thread. A thread that ends gives its chunks back (the key's destructor).
constexpr std::size_t kCachedClasses = 4;  // 2, 4, 8 and 16 MiB
struct CachedChunk {
  void* address;
  std::size_t poolSize;
  std::uint32_t node;
  bool huge;
};
struct ThreadCache {
  CachedChunk chunks[kCachedClasses];
  bool registered;
};
__attribute__((tls_model("initial-exec"))) thread_local ThreadCache threadCache{};
pthread_key_t threadCacheKey;

void flushThreadCache(void*) noexcept;

int cacheIndex(std::size_t classBytes) noexcept {
  if (classBytes < 2 * MiB || classBytes > 16 * MiB) return -1;
  return std::countr_zero(classBytes) - std::countr_zero(2 * MiB);
}

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

  LineWriter& text(const char* value, std::size_t most = SIZE_MAX) noexcept {
    for (std::size_t i = 0; i < most && value[i] != '\0'; ++i) put(value[i]);
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

/// The slot of a pointer this library served, or nullptr (most glibc pointers fail the first test).
Slot* servedSlot(const void* pointer) noexcept {
  if (pointer == nullptr || (reinterpret_cast<std::uintptr_t>(pointer) & (kAlignment - 1)) != 0) return nullptr;
  return table.find(reinterpret_cast<std::uintptr_t>(pointer));
}

bool reporting() noexcept { return policy->reportAtExit || policy->reportOnSignal; }

// ---- the report ----

int reportFd() noexcept {
  if (policy == nullptr || policy->reportFile.empty()) return STDERR_FILENO;
  const int fd = ::open(policy->reportFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return fd >= 0 ? fd : STDERR_FILENO;
}

/// What a block got when it was served: a mapping's summary, or its pool chunk, said without allocating.
void describe(LineWriter& out, const Record& record) noexcept {
  if (!record.pooled || record.line[0] != '\0') {
    out.text(record.line, kLineLength);  // bounded: a record read while it is rewritten may lack its NUL
    return;
  }
  out.bytes(record.size).text(": a ").bytes(record.mapped).text(" chunk of node ").number(record.node)
      .text(record.hugePool ? "'s pool (huge pages)" : "'s pool (THP or 4 KiB)");
}

// `detailed`: ask the page tables where each live allocation is now (allocates: not in a signal).
void writeReport(bool detailed) noexcept {
  const int fd = reportFd();
  {
    LineWriter out(fd);
    out.text("xmem-preload: ").number(servedCount.load()).text(" large allocation(s) served (")
        .bytes(servedBytes.load()).text("), ").number(table.count()).text(" live (")
        .bytes(currentBytes.load()).text("), peak ").bytes(peakBytes.load()).text(", ")
        .number(declined.load()).text(" left to the system allocator\n");
    table.forEach([&](std::uintptr_t address, const Record& record) {
      out.text("  #").number(record.id).text(" live  ");
      describe(out, record);
      out.text("\n");
      if (!detailed) return;
      Guard guard;
      try {
        const auto now = where(reinterpret_cast<void*>(address), record.size).summary();
        out.text("        now: ").text(now.c_str()).text("\n");
      } catch (...) {
        out.text("        now: the page tables could not be read\n");
      }
    });
    freed.forEach([&](const Record& record) {
      out.text("  #").number(record.id).text(" freed ");
      describe(out, record);
      out.text("\n");
    });
  }
  if (fd != STDERR_FILENO) ::close(fd);
}

// The interrupted code may be about to read errno: open() and write() here must not change it.
void onReportSignal(int) {
  const int saved = errno;
  writeReport(false);
  errno = saved;
}

void atExit() {
  serveFrom.store(SIZE_MAX, std::memory_order_relaxed);  // from here on, large requests go to glibc
  state.store(kExiting, std::memory_order_release);
  if (policy->reportAtExit) writeReport(true);
}

// ---- set-up ----

// ---- published records: what each served block asked for and got, for monitors outside ----
// A memfd the process keeps open and mapped (xmem stats --pid reads it through /proc/PID/fd):
// three system calls at set-up, then plain stores on the serving path. A forked child gets a
// fresh, empty one in place of its parent's (which it must not write to).

published::Slot* publishedSlots = nullptr;  // nullptr: not published (set-up failed)
int publishedFd = -1;
constexpr std::size_t kPublishedBytes = published::bytesFor(kSlots);

/// A new record area mapped at `at` (or anywhere when nullptr); false when it could not be made.
bool mapPublishedRecords(void* at) noexcept {
  const int fd = ::memfd_create(published::kPublishedRecordsName, MFD_CLOEXEC);
  if (fd < 0) return false;
  void* area = MAP_FAILED;
  if (::ftruncate(fd, static_cast<off_t>(kPublishedBytes)) == 0)
    area = ::mmap(at, kPublishedBytes, PROT_READ | PROT_WRITE, MAP_SHARED | (at != nullptr ? MAP_FIXED : 0), fd, 0);
  if (area == MAP_FAILED) {
    ::close(fd);
    return false;
  }
  auto* header = static_cast<published::Header*>(area);
  std::memcpy(header->magic, published::kMagic, sizeof(header->magic));
  header->version = published::kFormatVersion;
  header->slotCount = kSlots;
  header->slotSize = sizeof(published::Slot);
  publishedSlots = reinterpret_cast<published::Slot*>(header + 1);
  publishedFd = fd;
  return true;
}

void republishInChild() noexcept {
  if (publishedSlots == nullptr) return;
  void* at = reinterpret_cast<published::Header*>(publishedSlots) - 1;
  const int parents = publishedFd;
  if (mapPublishedRecords(at)) {
    ::close(parents);
  } else {
    ::munmap(at, kPublishedBytes);  // never write into the parent's records
    ::close(parents);
    publishedSlots = nullptr;
  }
}

void publish(const Slot* slot, std::uintptr_t address, std::size_t size, std::size_t mapped, std::size_t hugeBytes,
             std::size_t pageSize, std::int32_t node, bool pooled, bool locked) noexcept {
  if (publishedSlots == nullptr) return;
  published::Slot values{};
  values.address = address;
  values.requestedBytes = size;
  values.mappedBytes = mapped;
  values.hugeTlbBytes = hugeBytes;
  values.pageSize = pageSize;
  values.nodeAsked = node;
  values.locked = locked ? 1 : 0;
  values.pooled = pooled ? 1 : 0;
  std::memcpy(values.source, pooled ? "pool" : "mapping", pooled ? 5 : 8);
  published::write(publishedSlots[table.indexOf(slot)], values);
}

void unpublish(const Slot* slot) noexcept {
  if (publishedSlots != nullptr) published::clear(publishedSlots[table.indexOf(slot)]);
}

void initialize() {
  Guard guard;
  auto parsed = parsePreloadPolicy([](const char* name) { return ::getenv(name); });
  policy = new (policyStorage) PreloadPolicy(std::move(parsed.policy));
  for (const auto& error : parsed.errors) {
    LineWriter out(STDERR_FILENO);
    out.text("xmem-preload: ").text(error.c_str()).text("; using the default\n");
  }
  glibcUsableSize = reinterpret_cast<UsableSize>(::dlsym(RTLD_NEXT, "malloc_usable_size"));
  // From libc itself: RTLD_NEXT could find another allocator preloaded after this one, whose
  // blocks free() would then hand to glibc.
  if (void* libc = ::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD))
    glibcAlignedAlloc.store(reinterpret_cast<AlignedAlloc>(::dlsym(libc, "aligned_alloc")), std::memory_order_release);
  for (auto& huge : poolHugeByNode) huge.store(-1, std::memory_order_relaxed);
  // Made now, not on first use: a first use racing a fork() would hold its static's guard.
  BackoffTable::instance();
  os::current();
  if (::pthread_key_create(&threadCacheKey, flushThreadCache) != 0) throw std::bad_alloc();
  // The serving path's locks, held across fork() so the child finds them free; the pool's locks
  // are not among them (the child leaves the pool alone).
  ::pthread_atfork(lockForFork, unlockAfterFork, [] {
    unlockAfterFork();
    poolAbandoned.store(true, std::memory_order_relaxed);
    republishInChild();
  });
  mapPublishedRecords(nullptr);
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
    serveFrom.store(SIZE_MAX, std::memory_order_relaxed);
    state.store(kExiting);  // could not read its policy: serve nothing, stay out of the way
    return false;
  }
  serveFrom.store(policy->threshold, std::memory_order_relaxed);
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
      options.node = os::current().currentNode();
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
  options.listed = false;  // the preload keeps (and publishes) its own records
  if (policy->prefaultAbove != 0 && size >= policy->prefaultAbove) options.prefaultThreads = VirtualMemory::kAllCores;
  return options;
}

/// Publishes a served block in the table; false when the table is full. `line` describes a
/// mapping; a pool chunk's record is described from its fields when a report asks.
bool remember(void* data, std::size_t size, std::size_t capacity, const std::string* line, std::uint32_t node = 0,
              bool hugePool = false, std::size_t poolSize = 0, const AllocationReport* report = nullptr,
              std::int32_t nodeAsked = -1) noexcept {
  Slot* slot = table.claim(reinterpret_cast<std::uintptr_t>(data));
  if (slot == nullptr) return false;
  slot->record.id = reporting() ? nextId.fetch_add(1, std::memory_order_relaxed) : 0;
  slot->record.size = size;
  slot->record.mapped = capacity;
  slot->record.pooled = line == nullptr;
  slot->record.node = node;
  slot->record.hugePool = hugePool;
  slot->record.poolSize = poolSize;
  if (line != nullptr) copyLine(slot->record.line, *line);
  else slot->record.line[0] = '\0';
  table.publish(slot, reinterpret_cast<std::uintptr_t>(data));
  if (report != nullptr) {
    std::size_t pageSize = 0;
    for (const auto& segment : report->segments) pageSize = std::max(pageSize, segment.pageSize);
    publish(slot, reinterpret_cast<std::uintptr_t>(data), size, capacity, report->hugeTlbBytes(), pageSize,
            report->node ? static_cast<std::int32_t>(*report->node) : -1, false, report->locked);
  } else {
    // A pool chunk: on the pool's pages (huge when its pool is), locked as the pool is asked to be.
    publish(slot, reinterpret_cast<std::uintptr_t>(data), size, capacity, hugePool ? capacity : 0, hugePool ? kHugePageSize : 0,
            nodeAsked, true, policy->lock);
  }
  if (!reporting()) return true;
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

/// This thread's cached chunk of the request's class on `node`, published for the request, or nullptr.
void* takeCached(std::size_t size, std::size_t classBytes, std::uint32_t node) noexcept {
  const int index = cacheIndex(classBytes);
  if (index < 0) return nullptr;
  CachedChunk& cached = threadCache.chunks[index];
  if (cached.address == nullptr || cached.node != node) return nullptr;
  void* data = cached.address;
  if (!remember(data, size, classBytes, nullptr, cached.node, cached.huge, cached.poolSize, nullptr,
                static_cast<std::int32_t>(node)))
    return nullptr;
  cached.address = nullptr;
  return data;
}

/// Keeps a freed pool chunk for this thread's next request of its class; false when the slot is taken.
bool keepCached(const CachedChunk& chunk, std::size_t classBytes) noexcept {
  const int index = cacheIndex(classBytes);
  if (index < 0) return false;
  CachedChunk& cached = threadCache.chunks[index];
  if (cached.address != nullptr) return false;
  if (!threadCache.registered) {
    threadCache.registered = true;
    ::pthread_setspecific(threadCacheKey, &threadCache);  // so that the thread's end flushes it
  }
  cached = chunk;
  return true;
}

void flushThreadCache(void*) noexcept {
  NumaMemoryPool* from = pool.load(std::memory_order_acquire);
  for (auto& cached : threadCache.chunks) {
    if (cached.address != nullptr && from != nullptr && !poolAbandoned.load(std::memory_order_relaxed)) {
      Guard guard;
      from->deallocate(cached.address, cached.poolSize);
    }
    cached.address = nullptr;
  }
}

/// A pool chunk for the request, or nullptr.
void* servePooled(std::size_t size) {
  const bool fixed = policy->nodeMode == PreloadPolicy::NodeMode::Fixed;
  const std::uint32_t node = fixed ? policy->node : os::current().currentNode();
  const std::size_t classBytes = MemoryPool::classSize(size);
  if (void* cached = takeCached(size, classBytes, node)) return cached;
  NumaMemoryPool* from = poolForRequests();
  if (from == nullptr) return nullptr;
  auto chunk = from->tryAllocate(size, node);
  if (!chunk.ok()) return nullptr;
  auto* data = chunk.value().address;
  const std::uint32_t servedBy = chunk.value().node;
  bool huge = false;
  if (servedBy < kNodesKnown) {
    auto known = poolHugeByNode[servedBy].load(std::memory_order_relaxed);
    if (known < 0) {
      known = from->isHugePages(servedBy) ? 1 : 0;
      poolHugeByNode[servedBy].store(known, std::memory_order_relaxed);
    }
    huge = known == 1;
  }
  // Bound means bound; and every pointer served must pass free()'s 2 MiB test.
  if ((fixed && servedBy != node) || reinterpret_cast<std::uintptr_t>(data) % kAlignment != 0 ||
      !remember(data, size, classBytes, nullptr, servedBy, huge, size, nullptr, static_cast<std::int32_t>(node))) {
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
      const auto summary = memory.report().summary();
      if (remember(memory.data(), size, memory.mappedSize(), &summary, 0, false, 0, &memory.report()))
        return memory.detach();
    }
  } catch (...) {
  }
  if (reporting()) declined.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void release(Slot* slot) noexcept {
  const auto address = slot->key.load(std::memory_order_acquire);
  const std::size_t size = slot->record.size;
  const std::size_t mapped = slot->record.mapped;
  const bool pooled = slot->record.pooled;
  const CachedChunk chunk{reinterpret_cast<void*>(address), slot->record.poolSize, slot->record.node, slot->record.hugePool};
  if (reporting()) {
    // For the report: what it was on when it was given back (the line said what it got at first).
    Record record = slot->record;
    Guard guard;
    try {
      copyLine(record.line, "last seen " + where(reinterpret_cast<void*>(address), size).summary());
    } catch (...) {
    }
    freed.add(record);
  }
  unpublish(slot);
  table.release(slot);  // before unmapping: the address may come back at once
  if (reporting()) currentBytes.fetch_sub(size, std::memory_order_relaxed);
  if (!pooled) {
    VirtualMemory::unmapDetached(reinterpret_cast<void*>(address), mapped);
  } else if (!poolAbandoned.load(std::memory_order_relaxed) && !keepCached(chunk, mapped)) {
    Guard guard;
    pool.load(std::memory_order_acquire)->deallocate(chunk.address, chunk.poolSize);
  }
}

bool wantsXmem(std::size_t size) noexcept { return ready() && size >= policy->threshold; }

// The slow paths, out of line so that the entry points stay a compare and a tail call.

__attribute__((noinline)) void* allocateSlow(std::size_t size, std::size_t alignment) noexcept {
  if (wantsXmem(size))
    if (void* served = serve(size, alignment)) return served;
  return alignment <= alignof(std::max_align_t) ? __libc_malloc(size) : __libc_memalign(alignment, size);
}

__attribute__((noinline)) void freeSlow(void* pointer) noexcept {
  if (Slot* slot = servedSlot(pointer)) release(slot);
  else __libc_free(pointer);
}

__attribute__((noinline)) void* callocSlow(std::size_t count, std::size_t size, std::size_t total) noexcept {
  if (wantsXmem(total)) {
    bool reused = false;
    if (void* served = serve(total, alignof(std::max_align_t), &reused)) {
      if (reused) std::memset(served, 0, total);  // new mappings read as zero; pool chunks may not
      return served;
    }
  }
  return __libc_calloc(count, size);
}

bool below(std::size_t size) noexcept { return size < serveFrom.load(std::memory_order_relaxed); }
bool notServed(const void* pointer) noexcept { return (reinterpret_cast<std::uintptr_t>(pointer) & (kAlignment - 1)) != 0; }

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  if (below(size)) return alignment <= alignof(std::max_align_t) ? __libc_malloc(size) : __libc_memalign(alignment, size);
  return allocateSlow(size, alignment);
}

bool validAlignment(std::size_t alignment) noexcept {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

void* reallocSlow(void* pointer, std::size_t size) noexcept;

}  // namespace
}  // namespace xmem::preload

using namespace xmem::preload;

#define XMEM_EXPORT extern "C" __attribute__((visibility("default")))

XMEM_EXPORT void* malloc(std::size_t size) {
  if (below(size)) return __libc_malloc(size);  // sets errno itself
  void* pointer = allocateSlow(size, alignof(std::max_align_t));
  if (pointer == nullptr) errno = ENOMEM;
  return pointer;
}

XMEM_EXPORT void free(void* pointer) {
  if (notServed(pointer)) return __libc_free(pointer);
  if (pointer != nullptr) freeSlow(pointer);
}

XMEM_EXPORT void* calloc(std::size_t count, std::size_t size) {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (below(total)) return __libc_calloc(count, size);
  return callocSlow(count, size, total);
}

XMEM_EXPORT void* realloc(void* pointer, std::size_t size) {
  if (notServed(pointer) && below(size)) return __libc_realloc(pointer, size);
  return reallocSlow(pointer, size);
}

namespace xmem::preload {
namespace {

void* reallocSlow(void* pointer, std::size_t size) noexcept {
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
    if (reporting()) {
      currentBytes.fetch_add(size, std::memory_order_relaxed);  // modulo arithmetic: shrinking works too
      currentBytes.fetch_sub(slot->record.size, std::memory_order_relaxed);
    }
    slot->record.size = size;  // fits, and not worth moving
    return pointer;
  }
  void* moved = malloc(size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, pointer, std::min(size, slot->record.size));
  release(slot);
  return moved;
}

}  // namespace
}  // namespace xmem::preload

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
    // What such an alignment means is glibc's to say, and it changed: EINVAL since 2.38 (and its
    // backports), memalign's rounding up before. A program must see what its glibc does.
    if (glibcAlignedAlloc.load(std::memory_order_acquire) == nullptr) ready();
    const auto glibcs = glibcAlignedAlloc.load(std::memory_order_acquire);
    return glibcs != nullptr ? glibcs(alignment, size) : __libc_memalign(alignment, size);
  }
  void* pointer = allocate(size, alignment);
  if (pointer == nullptr) errno = ENOMEM;
  return pointer;
}

// glibc rounds a memalign() alignment up to a power of two; so do we. Past the largest power of
// two there is none to round to (std::bit_ceil's result would not fit): glibc says EINVAL.
XMEM_EXPORT void* memalign(std::size_t alignment, std::size_t size) {
  if (alignment > SIZE_MAX / 2 + 1) return __libc_memalign(alignment, size);
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
