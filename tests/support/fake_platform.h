// A platform for unit tests: a configurable machine (nodes, huge pages per size and node, THP,
// memlock limit) with failure switches, backed by real memory so the returned pointers work.
#pragma once

#include "os/linux/linux_platform.h"
#include "os/os.h"

#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace xmem::testing {

class FakePlatform final : public os::Platform {
 public:
  struct Switches {
    std::set<std::size_t> failMapOfPageSize;  ///< hugetlb sizes whose map fails with mapErrno
    bool failBaseMap = false;                 ///< base-page maps fail too (nothing left)
    int mapErrno = 12;                        ///< ENOMEM
    bool failBind = false;
    int bindErrno = 22;                       ///< EINVAL
    bool failLock = false;
    int lockErrno = 12;
    std::set<std::size_t> failPopulateOfPageSize;  ///< populate of these hugetlb sizes fails EFAULT
    bool failAdvise = false;
    bool countsWritable = true;
    bool collapseOnRequest = true;   ///< the fake kernel has MADV_COLLAPSE (Linux 6.1+)
    int collapseErrno = 0;           ///< MADV_COLLAPSE fails so (EINVAL: that range cannot be) ...
    int collapseFailures = 1 << 30;  ///< ... this many times, then works
    int moveErrno = 0;               ///< movePages fails every other page with this (e.g. EBUSY)
  };

  struct Mapping {
    std::uint8_t* address = nullptr;
    std::size_t length = 0;
    std::size_t hugePageSize = 0;
    Protection protection = Protection::None;
    os::Placement placement;
    bool advisedHuge = false;
    bool advisedNoHuge = false;
    bool locked = false;
    std::size_t populatedBytes = 0;
    std::uint32_t pagesTakenFrom = 0;  ///< node whose free huge pages it took
    bool collapsed = false;            ///< MADV_COLLAPSE made it THP
  };

  FakePlatform();
  ~FakePlatform() override;

  // The machine. Edit before the first allocation (SystemInfo is probed once per ScopedPlatform).
  SystemInfo machine;
  /// Free huge pages per (page size, node); totals follow from them.
  void setHugePages(std::size_t pageSize, std::uint32_t node, std::uint64_t freePages);
  void setNodes(std::uint32_t count);
  /// Surplus pages of `pageSize` the fake kernel adds on demand (nr_overcommit_hugepages).
  void setOvercommit(std::size_t pageSize, std::uint64_t pages);
  Switches switches;

  /// Systematic fault injection: every call below that can fail (all but unmap and unlock, which
  /// must not, and the monitoring readers, whose scenarios are not these) is a fault point, counted from 1; the failAt-th fails with `error`. A test counts
  /// the points a scenario reaches (faultPoints() after a run with failAt 0), then fails each.
  struct Faults {
    std::size_t failAt = 0;  ///< 0: none
    int error = 12;          ///< ENOMEM
  };
  Faults faults;
  std::size_t faultPoints() const { return faultPoints_.load(); }
  std::string failedCall() const;  ///< the call the injected fault failed ("" before it)

  // What happened.
  std::size_t liveRegions() const;
  std::size_t mapCalls(std::size_t hugePageSize) const;
  std::size_t populateCalls() const { return populateCalls_.load(); }
  std::size_t populatedBytes() const;
  std::vector<Mapping> mappings() const;
  std::vector<std::string> violations() const;  ///< contract breaches seen (bad unmap lengths, ...)

  // Platform
  os::Capabilities capabilities() const noexcept override;
  MachineFacts probe() override;
  os::Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                                  HugePageCounts& out) noexcept override;
  /// Files are real files (the kernel's flock and rename): point XMEM_STATE_DIR at a
  /// temporary directory.
  os::Status lockFile(const char* path, int& handle) noexcept override;
  os::Status unlockFile(int handle) noexcept override;
  os::Status replaceFile(const char* path, const char* data, std::size_t length) noexcept override;
  os::Status memlockLimit(MemlockLimit& out) noexcept override;
  os::Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node, std::uint64_t count) noexcept override;
  os::Status checkHugePageCountWritable(std::size_t, std::optional<std::uint32_t>) noexcept override;
  os::Status compactMemory() noexcept override;
  std::string stateDirectory() const override { return os::linuxPlatform().stateDirectory(); }
  std::string memlockLimitAdvice() const override { return os::linuxPlatform().memlockLimitAdvice(); }
  os::BootConfiguration bootConfiguration(const std::vector<os::BootPages>& pages, const std::string& directory) const override {
    return os::linuxPlatform().bootConfiguration(pages, directory);
  }
  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override {
    return "/fake/" + std::to_string(pageSize) + "/" + (node ? std::to_string(*node) : std::string("all"));
  }
  /// Pages the fake kernel can add at most per (page size), like fragmentation on a real one.
  std::map<std::size_t, std::uint64_t> reservable;
  int compactions = 0;
  os::Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept override;
  os::Status map(const os::MapRequest& request, os::MapResult& out) noexcept override;
  os::Status unmap(void* address, std::size_t length) noexcept override;
  os::Status advise(void* address, std::size_t length, os::Advice advice) noexcept override;
  os::Status protect(void* address, std::size_t length, Protection protection) noexcept override;
  os::Status lock(void* address, std::size_t length) noexcept override;
  os::Status unlock(void* address, std::size_t length) noexcept override;
  os::Status name(void* address, std::size_t length, const char* name) noexcept override;
  os::Status populate(void* address, std::size_t length) noexcept override;
  os::Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override;
  /// THP: advised mappings' populated 2 MiB blocks, and collapsed mappings. Located exactly.
  os::Status survey(const void* address, std::size_t length, os::PageSurvey& out) noexcept override;
  /// Populated pages are on the node the mapping took its pages from, or where movePages put them.
  os::Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override;
  os::Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override;
  int collapseCalls = 0;
  std::uint32_t currentNode() noexcept override { return 0; }
  os::Status bindThreadMemory(const os::Placement&) noexcept override;
  os::Status pinThread(std::uint32_t) noexcept override;
  std::uint32_t currentCpu() noexcept override;
  std::uint32_t cpuCount() noexcept override { return 4; }

  // Monitoring: what the fake kernel reports of processes and of itself. Set them in a test.
  /// Per pid (0: this process, as the real platform takes it); a pid not here is NotFound.
  /// processUsage() keeps the mappings of at least minMappingBytes, as the real one does.
  std::map<std::int64_t, ProcessUsage> processes;
  /// Pids whose processUsage fails with this errno (e.g. 13 EACCES: another user's process).
  std::map<std::int64_t, int> processErrno;
  KernelCounters counters;
  int kernelCountersErrno = 0;  ///< kernelCounters() fails with this errno when not 0
  /// Records per (pid, memfd name); readPublishedRecords() returns up to maxBytes of them.
  std::map<std::pair<std::int64_t, std::string>, std::string> publishedRecords;
  std::string host = "fake";

  os::Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) override;
  os::Status kernelCounters(KernelCounters& out) override;
  os::Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) override;
  std::string hostName() const override { return host; }
  /// The fake's processes are the real ones: records of processes cross real files.
  std::int64_t processId() const noexcept override;
  bool processAlive(std::int64_t pid) const noexcept override;

 private:
  struct Region {
    std::uint8_t* base = nullptr;  // start handed out
    std::size_t length = 0;
    void* raw = nullptr;           // what the OS gave the fake
    std::size_t rawLength = 0;
  };
  Mapping* findMapping(const void* address);
  bool injectFault(const char* call) noexcept;
  os::Status reserveRegion(std::size_t length, std::size_t alignment, void*& out) noexcept;
  os::Status countsOf(std::size_t pageSize, std::optional<std::uint32_t> node, HugePageCounts& out) noexcept;
  os::Status nodesOf(const void* const* pages, std::size_t count, int* nodes) noexcept;
  void returnPages(const Mapping& mapping);

  mutable std::mutex mutex_;
  std::vector<Region> regions_;
  std::vector<Mapping> mappings_;
  std::map<std::pair<std::size_t, std::uint32_t>, std::uint64_t> freePages_;
  std::map<std::size_t, std::size_t> mapCalls_;
  std::map<std::size_t, std::uint64_t> overcommit_;
  std::map<std::size_t, std::uint64_t> surplus_;
  std::atomic<std::size_t> populateCalls_{0};
  std::atomic<std::size_t> faultPoints_{0};
  const char* failedCall_ = nullptr;
  std::vector<std::string> violations_;
  std::map<std::uintptr_t, std::uint32_t> movedPages_;  // base page -> node
};

}  // namespace xmem::testing
