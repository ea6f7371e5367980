// Pre-faulting with helper threads when the system will not start all of them.
#include "mapping/prefault.h"
#include "support/fake_platform.h"

#include <gtest/gtest.h>

#include <atomic>
#include <system_error>

namespace xmem::testing {
namespace {

class PrefaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    os::MapRequest request;
    request.length = length;
    ASSERT_TRUE(fake.map(request, mapped));
  }
  void TearDown() override { fake.unmap(mapped.address, length); }

  std::vector<PrefaultRange> range() const {
    return {{static_cast<std::uint8_t*>(mapped.address), length, fake.machine.basePageSize}};
  }

  static constexpr std::size_t length = 256 * MiB;  // 8 chunks of 32 MiB
  FakePlatform fake;
  os::MapResult mapped;
};

TEST_F(PrefaultTest, AllThreadsShareTheWork) {
  auto result = prefault(fake, range(), 4);
  EXPECT_TRUE(result.status);
  EXPECT_EQ(result.threads, 4U);
  EXPECT_EQ(fake.populatedBytes(), length);
}

// Under the preload library this runs inside malloc(): std::thread throwing after a first helper
// started used to destroy a joinable thread, and std::terminate ended the program.
TEST_F(PrefaultTest, AThreadThatCannotStartMeansFewerThreadsNotTerminate) {
  std::atomic<int> starts{0};
  auto startOneThenFail = [&](std::vector<std::thread>& helpers, const std::function<void()>& work) {
    if (starts++ >= 1) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    helpers.emplace_back(work);
  };
  auto result = prefault(fake, range(), 4, {}, startOneThenFail);
  EXPECT_TRUE(result.status);
  EXPECT_EQ(result.threads, 2U) << "one helper and the calling thread";
  EXPECT_EQ(fake.populatedBytes(), length) << "every chunk faulted all the same";

  auto noneStart = [](std::vector<std::thread>&, const std::function<void()>&) { throw std::bad_alloc(); };
  auto alone = prefault(fake, range(), 4, {}, noneStart);
  EXPECT_TRUE(alone.status);
  EXPECT_EQ(alone.threads, 1U);
}

}  // namespace
}  // namespace xmem::testing
