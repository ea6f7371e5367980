// The banner of a kernel test run without root: what was not run, and why.
#include "kernel/kernel_test.h"

#include <unistd.h>

#include <iostream>
#include <mutex>
#include <vector>

namespace xmem::testing {
namespace {

std::mutex skippedMutex;
std::vector<std::string> skipped;       // "Suite.Test: why"
std::vector<std::string> skippedOnPosix;

std::string currentTest() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test != nullptr ? std::string(test->test_suite_name()) + "." + test->name() : std::string("?");
}

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
    printNotRun(skippedOnPosix, "on the generic POSIX platform", " that need what only the native platform has\n"
                "* (they run in the native run of the suite):");
    printNotRun(skipped, "without root", ". A green result here does NOT cover them;\n"
                "* run as root (sudo) for the whole suite:");
  }

 private:
  static void printNotRun(const std::vector<std::string>& tests, const char* where, const char* what) {
    if (tests.empty()) return;
    const char* rule = "********************************************************************************\n";
    std::cerr << "\n" << rule << "* NOT RUN " << where << ": " << tests.size() << " kernel test(s)" << what << "\n";
    for (const auto& line : tests) std::cerr << "*   " << line << '\n';
    std::cerr << rule << "\n";
  }
};

[[maybe_unused]] const auto* const banner = ::testing::AddGlobalTestEnvironment(new RootlessBanner);

}  // namespace

void noteSkippedWithoutRoot(const std::string& why) {
  std::lock_guard lock(skippedMutex);
  skipped.push_back(currentTest() + ": it " + why);
}

void noteSkippedOnPosix(const std::string& why) {
  std::lock_guard lock(skippedMutex);
  skippedOnPosix.push_back(currentTest() + ": it " + why);
}

}  // namespace xmem::testing
