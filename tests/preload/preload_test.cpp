// libxmem-preload.so from inside a program it is preloaded into (CTest sets LD_PRELOAD): large
// requests on huge pages, small ones left to glibc, and correct under threads, fork, foreign
// pointers, before main() and during exit. What the pages are comes from /proc/self/smaps.
#include "support/kernel_facts.h"

#include <xmem/placement.h>

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sched.h>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace xmem::testing {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

bool servedByXmem(const void* pointer) {
  // Everything the preload library serves is 2 MiB aligned and reports its mapping's size.
  return pointer != nullptr && reinterpret_cast<std::uintptr_t>(pointer) % (2 * kMiB) == 0 &&
         malloc_usable_size(const_cast<void*>(pointer)) % (2 * kMiB) == 0;
}

// Allocated before main(): the library must set itself up on first use.
struct EarlyAllocation {
  EarlyAllocation() : block(static_cast<char*>(std::malloc(8 * kMiB))) { std::memset(block, 3, 8 * kMiB); }
  char* block;
};
EarlyAllocation early;

// Freed during exit, after main() returns, by a static destructor and an atexit handler.
struct LateFree {
  ~LateFree() { std::free(block); }
  void* block = nullptr;
};
LateFree lateFree;
void* freedAtExit = nullptr;

TEST(Preload, TheLibraryIsPreloaded) {
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&malloc), &info), 0);
  ASSERT_NE(std::string(info.dli_fname).find("libxmem-preload.so"), std::string::npos)
      << "malloc comes from " << info.dli_fname << ": run with LD_PRELOAD=libxmem-preload.so";
}

TEST(Preload, AllocationsBeforeMainAreServed) {
  EXPECT_TRUE(servedByXmem(early.block));
  EXPECT_EQ(early.block[8 * kMiB - 1], 3);
}

TEST(Preload, LargeRequestsAreOnHugePagesSmallOnesStayWithGlibc) {
  auto* large = static_cast<char*>(std::malloc(8 * kMiB));
  ASSERT_TRUE(servedByXmem(large));
  std::memset(large, 1, 8 * kMiB);
  // A pool chunk shares its kernel area with others, so ask the page tables about its own pages.
  const auto map = where(large, 8 * kMiB);
  EXPECT_EQ(map.bytesOf(PageKind::HugeTlb) + map.bytesOf(PageKind::Transparent), 8 * kMiB)
      << "on reserved 2 MiB pages, or touched, advised and aligned: transparent huge pages. " << map.summary();
  auto* small = std::malloc(1000);
  auto* belowThreshold = std::malloc(1 * kMiB);
  EXPECT_FALSE(servedByXmem(small));
  EXPECT_FALSE(servedByXmem(belowThreshold));
  std::free(small);
  std::free(belowThreshold);
  std::free(large);  // a pool chunk (2 MiB to 64 MiB): kept for the next request
}

TEST(Preload, DatasetSizedRequestsArePrefaultedOnHugePagesAndUnmappedWhenFreed) {
  auto* dataset = static_cast<char*>(std::malloc(96 * kMiB));
  ASSERT_TRUE(servedByXmem(dataset));
  // A few free 2 MiB pages make it two areas: hugetlb, then THP. Count every area it spans.
  std::size_t resident = 0;
  std::size_t hugetlb = 0;
  for (auto area = smapsAt(dataset); area.found && area.start < reinterpret_cast<std::uintptr_t>(dataset) + 96 * kMiB;
       area = smapsAt(reinterpret_cast<const void*>(area.end))) {
    resident += area.rss + area.privateHugetlb;
    hugetlb += area.privateHugetlb;
  }
  EXPECT_EQ(resident, 96 * kMiB) << "pre-faulted at allocation, before any touch";
  // Transparent pages depend on free 2 MiB blocks, which tests running alongside may break up.
  EXPECT_GE(kernelThpBytes(dataset, 96 * kMiB) + hugetlb, 48 * kMiB) << "most of it on huge pages";
  volatile std::uintptr_t address = reinterpret_cast<std::uintptr_t>(dataset);  // not a pointer once freed
  std::free(dataset);
  EXPECT_FALSE(smapsAt(reinterpret_cast<const void*>(address)).found) << "freed: unmapped";
}

TEST(Preload, CallocIsZeroAndReallocMovesBetweenTheAllocators) {
  auto* zeroed = static_cast<unsigned char*>(std::calloc(3, 4 * kMiB));
  ASSERT_TRUE(servedByXmem(zeroed));
  for (std::size_t i = 0; i < 12 * kMiB; i += 4093) ASSERT_EQ(zeroed[i], 0) << i;
  std::free(zeroed);

  auto* grown = static_cast<char*>(std::malloc(1000));
  std::memset(grown, 7, 1000);
  grown = static_cast<char*>(std::realloc(grown, 6 * kMiB));  // glibc -> xmem
  ASSERT_TRUE(servedByXmem(grown));
  EXPECT_EQ(grown[999], 7);
  grown[6 * kMiB - 1] = 9;
  grown = static_cast<char*>(std::realloc(grown, 20 * kMiB));  // xmem -> a larger xmem mapping
  ASSERT_TRUE(servedByXmem(grown));
  EXPECT_EQ(grown[0], 7);
  EXPECT_EQ(grown[6 * kMiB - 1], 9);
  grown = static_cast<char*>(std::realloc(grown, 500));  // xmem -> glibc
  EXPECT_FALSE(servedByXmem(grown));
  EXPECT_EQ(grown[499], 7);
  std::free(grown);
  volatile std::size_t huge = SIZE_MAX / 2;  // volatile: the compiler must not see the overflow coming
  EXPECT_EQ(std::calloc(huge, 4), nullptr) << "overflow";
}

TEST(Preload, MidSizeRequestsReuseFreedPoolChunksAndCallocClearsThem) {
  std::set<void*> seen;
  for (int i = 0; i < 50; ++i) {
    auto* block = static_cast<unsigned char*>(std::malloc(4 * kMiB));
    ASSERT_TRUE(servedByXmem(block));
    std::memset(block, 0xFF, 4 * kMiB);
    seen.insert(block);
    std::free(block);
  }
  // Freed chunks are reused (one free list per CPU): no new mapping, no new fault each time.
  EXPECT_LE(seen.size(), std::thread::hardware_concurrency()) << "distinct addresses for 50 requests";
  auto* zeroed = static_cast<unsigned char*>(std::calloc(1, 4 * kMiB));
  ASSERT_TRUE(servedByXmem(zeroed));
  for (std::size_t i = 0; i < 4 * kMiB; i += 4093) ASSERT_EQ(zeroed[i], 0) << i;
  std::free(zeroed);
}

TEST(Preload, AlignedRequestsKeepTheirAlignment) {
  void* aligned = nullptr;
  ASSERT_EQ(posix_memalign(&aligned, 4 * kMiB, 6 * kMiB), 0);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % (4 * kMiB), 0U);
  EXPECT_TRUE(servedByXmem(aligned));
  std::free(aligned);
  EXPECT_EQ(posix_memalign(&aligned, 3, 6 * kMiB), EINVAL);
  auto* cacheLines = std::aligned_alloc(64, 3 * kMiB);
  EXPECT_TRUE(servedByXmem(cacheLines));
  std::free(cacheLines);
  auto* page = valloc(2 * kMiB);
  EXPECT_TRUE(servedByXmem(page));
  std::free(page);
  auto* small = memalign(4096, 100);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small) % 4096, 0U);
  EXPECT_FALSE(servedByXmem(small));
  std::free(small);
}

TEST(Preload, MemoryFromGlibcItselfIsFreedByGlibc) {
  // Even a glibc block that happens to be 2 MiB aligned is not mistaken for one of ours.
  void* aligned = __libc_memalign(2 * kMiB, 4 * kMiB);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % (2 * kMiB), 0U);
  EXPECT_GE(malloc_usable_size(aligned), 4 * kMiB);
  std::free(aligned);
  void* plain = __libc_malloc(4 * kMiB);
  std::free(plain);
}

TEST(Preload, ThreadsAllocateAndFreeAtOnce) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      std::mt19937 random(static_cast<unsigned>(t));
      std::vector<std::pair<unsigned char*, std::size_t>> held;
      for (int i = 0; i < 150; ++i) {
        const std::size_t size = (2 + random() % 7) * kMiB + random() % 4096;
        auto* block = static_cast<unsigned char*>(std::malloc(size));
        block[0] = block[size - 1] = static_cast<unsigned char>(t);
        held.emplace_back(block, size);
        std::free(std::malloc(64 + random() % 4096));  // small traffic alongside
        if (held.size() > 3) {
          auto [old, oldSize] = held.front();
          if (old[0] != t || old[oldSize - 1] != t) ++wrong;
          std::free(old);
          held.erase(held.begin());
        }
      }
      for (auto [block, size] : held) std::free(block);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Preload, AForkedChildReadsWritesAndFreesItsCopy) {
  auto* block = static_cast<char*>(std::malloc(16 * kMiB));
  std::memset(block, 5, 16 * kMiB);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ok = block[16 * kMiB - 1] == 5;
    std::memset(block, 6, 16 * kMiB);  // copy on write: the parent keeps its 5s
    std::free(block);
    auto* fresh = static_cast<char*>(std::malloc(8 * kMiB));
    ok = ok && servedByXmem(fresh);
    std::free(fresh);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_EQ(block[0], 5);
  std::free(block);
}

// Where served memory lands, by XMEM_PRELOAD_NODE: the multi-node guests run this with each policy.
// fork() copies a lock another thread holds as held forever. Children forked while other threads
// are inside xmem's allocation path (mappings of their own: 4 MiB-aligned requests skip the pool)
// must still allocate and exit. The locks are held for nanoseconds, so this is a stress run of the
// real registration; the deterministic proof, a lock held across the fork on purpose, is
// tests/unit/fork_safety_test.cpp with the same handlers.
TEST(Preload, ChildrenForkedWhileOtherThreadsAllocateCanAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> allocators;
  for (int t = 0; t < 2; ++t)
    allocators.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        void* block = nullptr;
        if (posix_memalign(&block, 4 * kMiB, 4 * kMiB) == 0) std::free(block);
      }
    });
  int forks = 0;
  int stuck = 0;
  int failed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (std::chrono::steady_clock::now() < until && stuck == 0) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      void* block = nullptr;
      const bool ok = posix_memalign(&block, 4 * kMiB, 4 * kMiB) == 0 && servedByXmem(block);
      std::free(block);
      _exit(ok ? 0 : 1);
    }
    ++forks;
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < 2000 && (done = waitpid(child, &status, WNOHANG)) == 0; ++waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (done == 0) {
      ++stuck;  // a lock copied as held: the child waits forever
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop = true;
  for (auto& thread : allocators) thread.join();
  std::cout << "[ NOTE     ] " << forks << " children forked while 2 threads allocated\n";
  EXPECT_EQ(stuck, 0) << "children that never finished a 4 MiB allocation, of " << forks;
  EXPECT_EQ(failed, 0) << "children whose allocation was not served, of " << forks;
  EXPECT_GT(forks, 10);
}

// A freed pool chunk waits in its thread's cache for the next request of its class; a thread that
// ends gives its chunks back, or a program that starts a thread per task would grow without end.
TEST(Preload, ThreadsThatEndGiveTheirCachedChunksBack) {
  auto mappedBytes = [] {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
    return 0ULL;
  };
  // On one CPU for the reuse: a cached chunk is for its node, and a thread moved to a CPU of another
  // node between the free and the malloc (the 2-node guest does that) rightly asks that node's pool.
  cpu_set_t all;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(all), &all), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(static_cast<unsigned>(::sched_getcpu()), &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  auto* first = std::malloc(16 * kMiB);
  const auto firstAddress = reinterpret_cast<std::uintptr_t>(first);  // not a pointer once freed
  std::free(first);
  auto* again = std::malloc(16 * kMiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(again), firstAddress) << "the same thread gets its chunk back";
  std::free(again);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(all), &all), 0);
  const auto before = mappedBytes();
  for (int i = 0; i < 100; ++i) {
    std::thread([] {
      void* chunks[] = {std::malloc(16 * kMiB), std::malloc(8 * kMiB), std::malloc(4 * kMiB)};
      for (void* chunk : chunks) {
        ASSERT_TRUE(servedByXmem(chunk));
        static_cast<volatile char*>(chunk)[0] = 1;
        std::free(chunk);  // kept in this thread's cache ...
      }
    }).join();  // ... and given back to the pool as the thread ends
  }
  const auto grown = mappedBytes() - before;
  EXPECT_LT(grown, 256 * kMiB) << "100 threads kept 28 MiB each: " << grown / kMiB << " MiB more mapped";
}

TEST(Preload, MemoryFollowsTheNodePolicy) {
  const auto nodes = static_cast<int>(kernelDistances().size());
  const char* policy = std::getenv("XMEM_PRELOAD_NODE");
  const std::string mode = policy == nullptr ? "local" : policy;
  std::map<int, std::size_t> pages;
  std::thread worker([&] {
    // Local: the allocating thread's node, so run it on a CPU of the last node.
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    std::ifstream list("/sys/devices/system/node/node" + std::to_string(nodes - 1) + "/cpulist");
    std::size_t cpu = 0;
    list >> cpu;
    CPU_SET(cpu, &cpus);
    ASSERT_EQ(sched_setaffinity(0, sizeof cpus, &cpus), 0);
    auto* block = static_cast<char*>(std::malloc(16 * kMiB));
    ASSERT_TRUE(servedByXmem(block));
    std::memset(block, 1, 16 * kMiB);
    pages = pagesByNode(block, 16 * kMiB);
    std::free(block);
  });
  worker.join();
  std::string seen;
  for (auto [node, count] : pages) seen += std::to_string(count) + " on node " + std::to_string(node) + "; ";
  if (mode == "local") {
    EXPECT_EQ(pages.size(), 1U) << seen;
    EXPECT_EQ(pages.begin()->first, nodes - 1) << seen;
  } else if (mode == "interleave") {
    EXPECT_EQ(static_cast<int>(pages.size()), nodes) << seen;
  } else if (mode != "none") {
    EXPECT_EQ(pages.size(), 1U) << seen;
    EXPECT_EQ(pages.begin()->first, std::stoi(mode)) << seen;
  }
}

TEST(Preload, TheReportComesOnItsSignal) {
  const char* file = std::getenv("XMEM_PRELOAD_REPORT_FILE");
  const char* report = std::getenv("XMEM_PRELOAD_REPORT");
  if (file == nullptr || report == nullptr || std::string(report).find("signal") == std::string::npos)
    GTEST_SKIP() << "run with XMEM_PRELOAD_REPORT=signal and XMEM_PRELOAD_REPORT_FILE (CTest's cli.run_report_on_signal does)";
  std::remove(file);
  auto* held = static_cast<char*>(std::malloc(4 * kMiB));
  held[0] = 1;  // used, so the compiler keeps the allocation
  ASSERT_EQ(raise(SIGUSR2), 0);
  std::ifstream in(file);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("large allocation(s) served"), std::string::npos) << text;
  // The 4 MiB block is live, from node 0's pool, and its page kind is named: hugetlb where pages
  // are reserved, else THP-advised (a handler cannot read smaps to say how much became huge).
  const auto line = text.find(" live  4 MiB: a 4 MiB chunk of node 0's pool (");
  ASSERT_NE(line, std::string::npos) << text;
  const std::string entry = text.substr(line, text.find('\n', line) - line);
  EXPECT_TRUE(entry.ends_with("(huge pages)") || entry.ends_with("(THP or 4 KiB)")) << text;
  std::free(held);
}

// The handler runs on whatever thread the signal lands on, maybe inside free(): it must take no
// lock that free() holds (it used to spin on the freed ring's lock, and then spun forever).
TEST(Preload, TheReportSignalNeverWaitsForTheThreadItInterrupts) {
  const char* report = std::getenv("XMEM_PRELOAD_REPORT");
  if (report == nullptr || std::string(report).find("signal") == std::string::npos)
    GTEST_SKIP() << "run with XMEM_PRELOAD_REPORT=signal (CTest's cli.run_report_on_signal does)";
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> freed{0};
  std::thread freer([&] {
    while (!stop.load()) {
      void* block = std::malloc(4 * kMiB);
      static_cast<volatile char*>(block)[0] = 1;
      std::free(block);
      freed.fetch_add(1);
    }
  });
  int signals = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    const auto before = freed.load();
    pthread_kill(freer.native_handle(), SIGUSR2);
    ++signals;
    // The freer must keep going: a handler stuck on a lock its own thread holds stops it for good.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (freed.load() == before && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (freed.load() == before) {
      ADD_FAILURE() << "the freeing thread stopped inside the report's signal handler, after " << signals << " signal(s)";
      std::_Exit(1);  // it cannot be joined
    }
  }
  stop = true;
  freer.join();
  std::cout << "[ NOTE     ] " << signals << " report signals landed on a thread that allocates and frees\n";
}

TEST(Preload, ExitFreesAndAllocatesSafely) {
  lateFree.block = std::malloc(4 * kMiB);  // freed by a static destructor
  freedAtExit = std::malloc(4 * kMiB);
  static_cast<volatile char*>(lateFree.block)[0] = 1;
  static_cast<volatile char*>(freedAtExit)[0] = 1;
  std::atexit([] {
    std::free(freedAtExit);
    auto* late = static_cast<volatile char*>(std::malloc(6 * kMiB));  // a large request during exit
    late[0] = 1;
    std::free(const_cast<char*>(late));
  });
  SUCCEED() << "the process must still exit with 0 (CTest checks)";
}

// A block still live when the program ends is in the exit report, with where it is now: read after
// the static destructors ran, which once destroyed the machine facts it reads (a double free in
// glibc, then SIGSEGV, in cc1plus under XMEM_PRELOAD_THRESHOLD=64K and XMEM_PRELOAD_REPORT=exit).
TEST(Preload, ABlockLiveAtExitIsReportedWhereItIsNow) {
  static void* neverFreed = std::malloc(5 * kMiB);
  static_cast<volatile char*>(neverFreed)[0] = 1;
  SUCCEED() << "the process must exit with 0 and report the block (CTest checks)";
}

// What the preload published is there for monitors outside (xmem stats --pid): the memfd exists,
// and a forked child has one of its own, not its parent's.
std::string publishedRecordsLink() {
  for (int fd = 0; fd < 1024; ++fd) {
    char link[256] = {};
    const auto path = "/proc/self/fd/" + std::to_string(fd);
    const auto length = ::readlink(path.c_str(), link, sizeof(link) - 1);
    if (length > 0 && std::string_view(link, static_cast<std::size_t>(length)).starts_with("/memfd:xmem-preload-records"))
      return path;
  }
  return {};
}

TEST(Preload, ItsRecordsArePublishedForMonitorsOutside) {
  void* block = std::malloc(8 * kMiB);
  static_cast<volatile char*>(block)[0] = 1;
  const auto path = publishedRecordsLink();
  ASSERT_FALSE(path.empty()) << "no memfd named xmem-preload-records among this process's files";
  std::string bytes;
  {
    // Closed before the fork: the child must not inherit a second handle on the parent's records.
    std::ifstream records(path, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(records)), std::istreambuf_iterator<char>());
  }
  EXPECT_EQ(bytes.substr(0, 8), "XMEMPRL1");
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  EXPECT_NE(bytes.find(std::string(reinterpret_cast<const char*>(&address), sizeof(address))), std::string::npos)
      << "the block's address is in a record";
  struct stat parents {};
  ASSERT_EQ(::stat(path.c_str(), &parents), 0);
  const pid_t child = fork();
  if (child == 0) {
    // The child's records start empty: a free of the inherited block must not touch the parent's.
    std::free(block);
    const auto own = publishedRecordsLink();
    struct stat mine {};
    if (own.empty() || ::stat(own.c_str(), &mine) != 0) std::_Exit(2);
    std::_Exit(mine.st_ino != parents.st_ino ? 0 : 3);  // a memfd of its own, not the inherited one
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the child has no records file; 3: it still has its parent's";
  std::ifstream again(path, std::ios::binary);
  std::string after((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_NE(after.find(std::string(reinterpret_cast<const char*>(&address), sizeof(address))), std::string::npos)
      << "the child's free cleared the parent's record";
  std::free(block);
}

// For tests/preload/stats_from_outside.sh: holds two large blocks until XMEM_TEST_HOLD_FILE appears.
TEST(Preload, HoldsLargeBlocksForAMonitor) {
  const char* until = std::getenv("XMEM_TEST_HOLD_FILE");
  if (until == nullptr) GTEST_SKIP() << "only run by stats_from_outside.sh (XMEM_TEST_HOLD_FILE unset)";
  auto* dataset = static_cast<char*>(std::malloc(300 * kMiB));
  auto* chunk = static_cast<char*>(std::malloc(6 * kMiB));
  std::memset(dataset, 1, 300 * kMiB);
  std::memset(chunk, 1, 6 * kMiB);
  std::cout << "holding" << std::endl;
  for (int tick = 0; tick < 600 && ::access(until, F_OK) != 0; ++tick) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::free(chunk);
  std::free(dataset);
}

}  // namespace
}  // namespace xmem::testing
