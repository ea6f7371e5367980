// The banner of a kernel test run without root: what was not run, and why.
#include "kernel/kernel_test.h"

#include <unistd.h>

#include <iostream>
#include <mutex>
#include <vector>

namespace xmem::testing {
namespace {

std::mutex skippedMutex;
std::vector<std::string> skipped;  // "Suite.Test: why"

class RootlessBanner final : public ::testing::Environment {
 public:
  void SetUp() override {
    if (isRoot()) return;
    std::cerr << "\n"
                 "********************************************************************************\n"
                 "* xmem kernel tests running WITHOUT ROOT (uid " << ::getuid() << ").\n"
                 "* Tests that reserve huge pages or change kernel counts through sysfs will be\n"
                 "* SKIPPED; the rest (protection, THP, where() over 4 KiB pages, plain mappings,\n"
                 "* binding, mlock under a small limit) run. The list of skipped tests comes at the end.\n"
                 "********************************************************************************\n\n";
  }
  void TearDown() override {
    std::lock_guard lock(skippedMutex);
    if (skipped.empty()) return;
    std::cerr << "\n"
                 "********************************************************************************\n"
                 "* NOT RUN without root: " << skipped.size() << " kernel test(s). A green result here does\n"
                 "* NOT cover them; run as root (sudo) for the whole suite:\n";
    for (const auto& line : skipped) std::cerr << "*   " << line << '\n';
    std::cerr << "********************************************************************************\n\n";
  }
};

[[maybe_unused]] const auto* const banner = ::testing::AddGlobalTestEnvironment(new RootlessBanner);

}  // namespace

void noteSkippedWithoutRoot(const std::string& why) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::lock_guard lock(skippedMutex);
  skipped.push_back((test != nullptr ? std::string(test->test_suite_name()) + "." + test->name() : std::string("?")) +
                    ": it " + why);
}

}  // namespace xmem::testing
