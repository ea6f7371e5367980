// The main of every test program. `--xmem-platform=posix` runs the whole suite with the generic
// POSIX platform installed in place of the native one: what macOS and the BSDs would run, on this
// kernel. Tests that need what only the native platform has say so and skip (kernel_test.h).
#include "support/test_platform.h"

#include "os/posix/posix_platform.h"

#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <string_view>

namespace xmem::testing {
namespace {
bool posixInstalled = false;
}  // namespace

bool genericPosixInstalled() noexcept { return posixInstalled; }

}  // namespace xmem::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string_view platform = "native";
  for (int i = 1; i < argc; ++i) {
    constexpr std::string_view kOption = "--xmem-platform=";
    const std::string_view argument = argv[i];
    if (argument.starts_with(kOption)) {
      platform = argument.substr(kOption.size());
    } else {
      std::cerr << "unknown argument '" << argument << "' (expected --xmem-platform=native|posix or a --gtest_ flag)\n";
      return 2;
    }
  }
  std::optional<xmem::os::ScopedPlatform> installed;
  if (platform == "posix") {
    installed.emplace(xmem::os::posixPlatform());
    xmem::testing::posixInstalled = true;
    std::cerr << "xmem tests: the GENERIC POSIX platform is installed for this run (no huge pages, no NUMA);\n"
                 "tests that need the native platform's features are skipped and listed at the end.\n";
  } else if (platform != "native") {
    std::cerr << "unknown --xmem-platform value '" << platform << "' (expected native or posix)\n";
    return 2;
  }
  return RUN_ALL_TESTS();
}
