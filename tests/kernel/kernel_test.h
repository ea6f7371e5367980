// Shared set-up of the real-kernel tests: a clean back-off table and a fresh probe of the machine.
//
// Most of these tests run as any user (protection changes, THP, where() over 4 KiB pages, plain
// mappings, binding). Those that reserve huge pages or change kernel counts through sysfs need
// root: they start with XMEM_REQUIRE_ROOT(why), which skips them with that reason, and a run
// without root begins and ends with a banner listing what it did not run, so that a green run
// that proved little never looks like one that proved everything.
#pragma once

#include "mapping/backoff_table.h"
#include "support/kernel_facts.h"
#include "support/test_platform.h"

#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gtest/gtest.h>

#include <string>

namespace xmem::testing {

/// Records the running test as skipped for lack of root, with the reason (for the final banner).
void noteSkippedWithoutRoot(const std::string& why);
/// The same for a test that needs what the generic POSIX platform does not have.
void noteSkippedOnPosix(const std::string& why);

#define XMEM_REQUIRE_ROOT(why)                                  \
  do {                                                          \
    if (!::xmem::testing::isRoot()) {                           \
      ::xmem::testing::noteSkippedWithoutRoot(why);             \
      GTEST_SKIP() << "NOT RUN: needs root, because it " << why; \
    }                                                           \
  } while (false)

// The same runs of the suite with the generic POSIX platform installed (--xmem-platform=posix)
// skip what needs Linux (huge pages, NUMA, THP, the kernel's listing of mappings), saying why.
#define XMEM_REQUIRE_NATIVE_PLATFORM(why)                                           \
  do {                                                                             \
    if (::xmem::testing::genericPosixInstalled()) {                                \
      ::xmem::testing::noteSkippedOnPosix(why);                                    \
      GTEST_SKIP() << "NOT RUN on the generic POSIX platform: it " << why;         \
    }                                                                              \
  } while (false)

// Sanitizer runtimes replace mlock() with a no-op that succeeds. The Linux platform calls the
// kernel directly; the generic POSIX one cannot, so what it locks is unknown under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kMlockIsIntercepted = true;
#else
inline constexpr bool kMlockIsIntercepted = false;
#endif
#define XMEM_REQUIRE_REAL_MLOCK()                                                                    \
  do {                                                                                               \
    if (::xmem::testing::genericPosixInstalled() && ::xmem::testing::kMlockIsIntercepted) {          \
      ::xmem::testing::noteSkippedOnPosix("locks memory, and this sanitizer's mlock() does not");    \
      GTEST_SKIP() << "NOT RUN on the generic POSIX platform under a sanitizer: its mlock() is a no-op"; \
    }                                                                                                \
  } while (false)

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackoffTable::instance().reset();
    SystemInfo::refresh();
  }
  void TearDown() override { BackoffTable::instance().reset(); }

  static std::string decisions(const VirtualMemory& memory) {
    std::string all;
    for (const auto& line : memory.report().decisions) all += line + "\n";
    return all;
  }
};

}  // namespace xmem::testing
