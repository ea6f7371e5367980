// Shared set-up of the real-kernel tests: root (to reserve pages), a clean failure memory, and a
// fresh probe of the machine.
#pragma once

#include "failure_memory.h"
#include "support/kernel_facts.h"

#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gtest/gtest.h>

#include <string>

namespace xmem::testing {

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!isRoot()) GTEST_SKIP() << "needs root to reserve huge pages through sysfs";
    FailureMemory::instance().reset();
    SystemInfo::refresh();
  }
  void TearDown() override { FailureMemory::instance().reset(); }

  static std::string decisions(const VirtualMemory& memory) {
    std::string all;
    for (const auto& line : memory.report().decisions) all += line + "\n";
    return all;
  }
};

}  // namespace xmem::testing
