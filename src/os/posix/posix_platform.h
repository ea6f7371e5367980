// The generic POSIX platform: what any Unix offers (mmap, mprotect, mlock, getrlimit, mincore) and
// nothing more: no explicit huge pages, no NUMA, no pinning. It is the platform of macOS and the
// BSDs until they get their own, and the base the Linux platform builds on. Built and tested on
// every Linux build; posix_platform.cpp poisons the Linux-only calls so none can creep in.
#pragma once

#include "os/os.h"

#include <cstddef>
#include <string>

namespace xmem::os {

/// The one generic POSIX platform instance.
Platform& posixPlatform() noexcept;

/// The Status of a failure with errno `error` (0 is success).
Status errnoStatus(int error) noexcept;
/// "Cannot allocate memory": the C library's text for an errno, ENOSYS as "not supported".
std::string describeErrno(int code);

/// What every POSIX system does the same way. The Linux platform derives from it and replaces what
/// its kernel does better; the rest (files, reservations, protection, base pages) is this code.
class PosixPlatform : public Platform {
 public:
  PosixPlatform() noexcept = default;

  Capabilities capabilities() const noexcept override;
  MachineFacts probe() override;
  Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node, HugePageCounts& out) noexcept override;
  Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node, std::uint64_t count) noexcept override;
  Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept override;
  Status compactMemory() noexcept override;
  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override;
  std::string stateDirectory() const override;
  BootConfiguration bootConfiguration(const std::vector<BootPages>& pages, const std::string& directory) const override;
  Status lockFile(const char* path, int& handle) noexcept override;
  Status unlockFile(int handle) noexcept override;
  Status replaceFile(const char* path, const char* data, std::size_t length) noexcept override;
  Status memlockLimit(MemlockLimit& out) noexcept override;
  std::string memlockLimitAdvice() const override;
  Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept override;
  Status map(const MapRequest& request, MapResult& out) noexcept override;
  Status unmap(void* address, std::size_t length) noexcept override;
  Status advise(void* address, std::size_t length, Advice advice) noexcept override;
  Status protect(void* address, std::size_t length, Protection protection) noexcept override;
  Status lock(void* address, std::size_t length) noexcept override;
  Status unlock(void* address, std::size_t length) noexcept override;
  Status name(void* address, std::size_t length, const char* name) noexcept override;
  Status populate(void* address, std::size_t length) noexcept override;
  Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override;
  Status survey(const void* address, std::size_t length, PageSurvey& out) noexcept override;
  Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override;
  Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override;
  Status bindThreadMemory(const Placement& placement) noexcept override;
  Status pinThread(std::uint32_t cpu) noexcept override;
  std::uint32_t currentNode() noexcept override;
  std::uint32_t currentCpu() noexcept override;
  std::uint32_t cpuCount() noexcept override;
  Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) override;
  Status kernelCounters(KernelCounters& out) override;
  Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) override;
  std::string hostName() const override;
  std::int64_t processId() const noexcept override;
  bool processAlive(std::int64_t pid) const noexcept override;

 protected:
  /// Address space of `length` bytes aligned to `alignment`, inaccessible: over-reserved, then
  /// the slack on both sides given back.
  static Status reserveAligned(std::size_t length, std::size_t alignment, void*& out) noexcept;
  /// mmap's PROT_ bits for a Protection.
  static int protectionBits(Protection protection) noexcept;
  /// errno as a Status (EIO when errno says nothing).
  static Status lastError() noexcept;
  /// The base page size (sysconf, read once).
  static std::size_t basePage() noexcept;
  /// The facts any POSIX system gives: base page, memory, CPUs as one node, memlock limit.
  MachineFacts portableFacts();
};

}  // namespace xmem::os
