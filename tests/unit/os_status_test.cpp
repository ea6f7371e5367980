// The os layer's vocabulary: how Linux's codes become kinds and page answers, and the cache of
// what the platform says.
#include "machine/platform_cache.h"
#include "os/linux/linux_platform.h"
#include "support/fake_platform.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>

namespace xmem {
namespace {

using Kind = os::Status::Kind;

TEST(OsStatus, LinuxCodesBecomeTheKindsCallersDecideOn) {
  EXPECT_TRUE(os::errnoStatus(0).ok());
  EXPECT_EQ(os::errnoStatus(ENOMEM).kind, Kind::NoMemory);
  EXPECT_EQ(os::errnoStatus(EPERM).kind, Kind::NoPermission);
  EXPECT_EQ(os::errnoStatus(EACCES).kind, Kind::NoPermission);
  EXPECT_EQ(os::errnoStatus(ENOSYS).kind, Kind::Unsupported);
  EXPECT_EQ(os::errnoStatus(EAGAIN).kind, Kind::TryAgain);
  EXPECT_EQ(os::errnoStatus(EINVAL).kind, Kind::Invalid);
  EXPECT_EQ(os::errnoStatus(EFAULT).kind, Kind::BadAddress);
  EXPECT_EQ(os::errnoStatus(ENOENT).kind, Kind::NotFound);
  EXPECT_EQ(os::errnoStatus(ENOSPC).kind, Kind::Other) << "a full disk is not out of memory";
  EXPECT_EQ(os::errnoStatus(EIO).code, EIO) << "the OS's own code is kept for messages";
  EXPECT_EQ(os::describe(os::errnoStatus(ENOMEM)), "Cannot allocate memory (ENOMEM)");
  EXPECT_EQ(os::describe({Kind::Unsupported, 0}), "unsupported");
}

TEST(OsStatus, MovePagesAnswersBecomePageAnswers) {
  EXPECT_EQ(os::pageAnswerOf(3), 3);
  EXPECT_EQ(os::pageAnswerOf(-ENOENT), os::page_answer::kNotPresent);
  EXPECT_EQ(os::pageAnswerOf(-EFAULT), os::page_answer::kNotMapped);
  EXPECT_EQ(os::pageAnswerOf(-EBUSY), os::page_answer::kBusy);
  EXPECT_EQ(os::pageAnswerOf(-ENOMEM), os::page_answer::kNodeFull);
  EXPECT_EQ(os::pageAnswerOf(-EACCES), os::page_answer::kRefused);
  EXPECT_EQ(os::pageAnswerOf(-EIO), os::page_answer::kFailed);
  EXPECT_EQ(os::pageAnswerName(os::page_answer::kBusy), "busy");
}

TEST(PlatformCache, AReadThatFailsIsTriedAgainNotTakenForCurrent) {
  PlatformCache<int> cache;
  EXPECT_EQ(*cache.get([] { return 1; }), 1);
  EXPECT_EQ(*cache.get([] { return 2; }), 1) << "kept";
  testing::FakePlatform fake;
  os::ScopedPlatform installed(fake);
  EXPECT_THROW(cache.get([]() -> int { throw std::runtime_error("probe failed"); }), std::runtime_error);
  EXPECT_EQ(*cache.get([] { return 3; }), 3) << "read again under the new platform, not the old value";
  EXPECT_EQ(*cache.refresh([] { return 4; }), 4);
  EXPECT_EQ(*cache.get([] { return 5; }), 4);
}

}  // namespace
}  // namespace xmem
