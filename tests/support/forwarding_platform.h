// A platform that passes every call to another one (the real kernel, usually), so a test can
// change one answer and keep everything else real: a failure on demand on a real machine.
#pragma once

#include "platform/platform.h"

namespace xmem::testing {

class ForwardingPlatform : public platform::Platform {
 public:
  explicit ForwardingPlatform(platform::Platform& target) noexcept : target_(target) {}

  platform::Capabilities capabilities() const noexcept override { return target_.capabilities(); }
  SystemInfo probe() override { return target_.probe(); }
  platform::Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                                  HugePageCounts& out) noexcept override {
    return target_.hugePageCounts(pageSize, node, out);
  }
  platform::Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node,
                                    std::uint64_t count) noexcept override {
    return target_.setHugePageCount(pageSize, node, count);
  }
  platform::Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept override {
    return target_.checkHugePageCountWritable(pageSize, node);
  }
  platform::Status compactMemory() noexcept override { return target_.compactMemory(); }
  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override {
    return target_.hugePageCountPath(pageSize, node);
  }
  platform::Status lockFile(const char* path, int& handle) noexcept override { return target_.lockFile(path, handle); }
  platform::Status unlockFile(int handle) noexcept override { return target_.unlockFile(handle); }
  platform::Status replaceFile(const char* path, const char* data, std::size_t length) noexcept override {
    return target_.replaceFile(path, data, length);
  }
  platform::Status memlockLimit(MemlockLimit& out) noexcept override { return target_.memlockLimit(out); }
  platform::Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept override {
    return target_.reserve(length, alignment, out);
  }
  platform::Status map(const platform::MapRequest& request, platform::MapResult& out) noexcept override {
    return target_.map(request, out);
  }
  platform::Status unmap(void* address, std::size_t length) noexcept override { return target_.unmap(address, length); }
  platform::Status advise(void* address, std::size_t length, platform::Advice advice) noexcept override {
    return target_.advise(address, length, advice);
  }
  platform::Status protect(void* address, std::size_t length, Protection protection) noexcept override {
    return target_.protect(address, length, protection);
  }
  platform::Status lock(void* address, std::size_t length) noexcept override { return target_.lock(address, length); }
  platform::Status unlock(void* address, std::size_t length) noexcept override { return target_.unlock(address, length); }
  platform::Status name(void* address, std::size_t length, const char* name) noexcept override {
    return target_.name(address, length, name);
  }
  platform::Status populate(void* address, std::size_t length) noexcept override {
    return target_.populate(address, length);
  }
  platform::Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override {
    return target_.query(address, length, out);
  }
  platform::Status survey(const void* address, std::size_t length, platform::PageSurvey& out) noexcept override {
    return target_.survey(address, length, out);
  }
  platform::Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override {
    return target_.pageNodes(pages, count, nodes);
  }
  platform::Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override {
    return target_.movePages(pages, count, node, status);
  }
  platform::Status bindThreadMemory(const platform::Placement& placement) noexcept override {
    return target_.bindThreadMemory(placement);
  }
  platform::Status pinThread(std::uint32_t cpu) noexcept override { return target_.pinThread(cpu); }
  std::uint32_t currentNode() noexcept override { return target_.currentNode(); }
  std::uint32_t currentCpu() noexcept override { return target_.currentCpu(); }
  std::uint32_t cpuCount() noexcept override { return target_.cpuCount(); }

 private:
  platform::Platform& target_;
};

}  // namespace xmem::testing
