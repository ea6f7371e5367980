// A platform that passes every call to another one (the real kernel, usually), so a test can
// change one answer and keep everything else real: a failure on demand on a real machine.
#pragma once

#include "os/os.h"

namespace xmem::testing {

class ForwardingPlatform : public os::Platform {
 public:
  explicit ForwardingPlatform(os::Platform& target) noexcept : target_(target) {}

  os::Capabilities capabilities() const noexcept override { return target_.capabilities(); }
  MachineFacts probe() override { return target_.probe(); }
  os::Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                                  HugePageCounts& out) noexcept override {
    return target_.hugePageCounts(pageSize, node, out);
  }
  os::Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node,
                                    std::uint64_t count) noexcept override {
    return target_.setHugePageCount(pageSize, node, count);
  }
  os::Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept override {
    return target_.checkHugePageCountWritable(pageSize, node);
  }
  os::Status compactMemory() noexcept override { return target_.compactMemory(); }
  std::string stateDirectory() const override { return target_.stateDirectory(); }
  std::string memlockLimitAdvice() const override { return target_.memlockLimitAdvice(); }
  std::string describeMemlockLimit(const MemlockLimit& limit) const override { return target_.describeMemlockLimit(limit); }
  os::BootConfiguration bootConfiguration(const std::vector<os::BootPages>& pages, const std::string& directory) const override {
    return target_.bootConfiguration(pages, directory);
  }
  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override {
    return target_.hugePageCountPath(pageSize, node);
  }
  os::Status lockFile(const char* path, int& handle) noexcept override { return target_.lockFile(path, handle); }
  os::Status unlockFile(int handle) noexcept override { return target_.unlockFile(handle); }
  os::Status replaceFile(const char* path, const char* data, std::size_t length) noexcept override {
    return target_.replaceFile(path, data, length);
  }
  os::Status memlockLimit(MemlockLimit& out) noexcept override { return target_.memlockLimit(out); }
  os::Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept override {
    return target_.reserve(length, alignment, out);
  }
  os::Status map(const os::MapRequest& request, os::MapResult& out) noexcept override {
    return target_.map(request, out);
  }
  os::Status unmap(void* address, std::size_t length) noexcept override { return target_.unmap(address, length); }
  os::Status advise(void* address, std::size_t length, os::Advice advice) noexcept override {
    return target_.advise(address, length, advice);
  }
  os::Status protect(void* address, std::size_t length, Protection protection) noexcept override {
    return target_.protect(address, length, protection);
  }
  os::Status lock(void* address, std::size_t length) noexcept override { return target_.lock(address, length); }
  os::Status unlock(void* address, std::size_t length) noexcept override { return target_.unlock(address, length); }
  os::Status name(void* address, std::size_t length, const char* name) noexcept override {
    return target_.name(address, length, name);
  }
  os::Status populate(void* address, std::size_t length) noexcept override {
    return target_.populate(address, length);
  }
  os::Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override {
    return target_.query(address, length, out);
  }
  os::Status survey(const void* address, std::size_t length, os::PageSurvey& out) noexcept override {
    return target_.survey(address, length, out);
  }
  os::Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override {
    return target_.pageNodes(pages, count, nodes);
  }
  os::Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override {
    return target_.movePages(pages, count, node, status);
  }
  os::Status bindThreadMemory(const os::Placement& placement) noexcept override {
    return target_.bindThreadMemory(placement);
  }
  os::Status pinThread(std::uint32_t cpu) noexcept override { return target_.pinThread(cpu); }
  std::uint32_t currentNode() noexcept override { return target_.currentNode(); }
  std::uint32_t currentCpu() noexcept override { return target_.currentCpu(); }
  std::uint32_t cpuCount() noexcept override { return target_.cpuCount(); }
  os::Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) override {
    return target_.processUsage(pid, minMappingBytes, out);
  }
  os::Status kernelCounters(KernelCounters& out) override { return target_.kernelCounters(out); }
  os::Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) override {
    return target_.readPublishedRecords(pid, name, maxBytes, out);
  }
  std::string hostName() const override { return target_.hostName(); }
  std::int64_t processId() const noexcept override { return target_.processId(); }
  bool processAlive(std::int64_t pid) const noexcept override { return target_.processAlive(pid); }
  std::string describeError(int code) const override { return target_.describeError(code); }

 private:
  os::Platform& target_;
};

}  // namespace xmem::testing
