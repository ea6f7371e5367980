// Failing allocations inside xmem's non-throwing functions: each must end in an error or a
// refusal, never in std::terminate (what a noexcept function that allocates does exactly when
// memory is short). A replacement operator new fails on demand, on the calling thread only.
#include "machine/os_error.h"
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/memory_pool.h>
#include <xmem/numa_memory_pool.h>
#include <xmem/virtual_memory.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

namespace {
thread_local bool failAllocations = false;
}  // namespace

// Every form (plain, array, nothrow) and every delete is replaced: under AddressSanitizer, whose
// runtime has its own, memory from one family given to the other is a reported mismatch.
// new is malloc here, so free is the matching delete: GCC, seeing only the names, warns otherwise.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (failAllocations) throw std::bad_alloc();
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return failAllocations ? nullptr : std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& nothrow) noexcept { return ::operator new(size, nothrow); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
#pragma GCC diagnostic pop

namespace xmem {
namespace {

class NoMemoryLeft {
 public:
  NoMemoryLeft() { failAllocations = true; }
  ~NoMemoryLeft() { failAllocations = false; }
  NoMemoryLeft(const NoMemoryLeft&) = delete;
  NoMemoryLeft& operator=(const NoMemoryLeft&) = delete;
};

class OutOfMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    BackoffTable::instance().reset();
    scoped.emplace(fake);
  }
  static MemoryPoolOptions poolOptions() {
    MemoryPoolOptions options;
    options.capacity = 4 * MiB;
    options.hugePages = false;
    options.grow = false;
    return options;
  }
  testing::FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(OutOfMemory, PoolErrorsAreStillErrors) {
  MemoryPool pool(poolOptions());
  std::uint8_t* whole = pool.allocate(4 * MiB);
  {
    NoMemoryLeft none;
    auto zero = pool.tryAllocate(0);
    EXPECT_FALSE(zero.ok());
    auto full = pool.tryAllocate(2 * MiB);  // full, and growth is off: an error with a message
    EXPECT_FALSE(full.ok());
    EXPECT_EQ(full.error().code(), ErrorCode::OutOfMemory);
    EXPECT_EQ(full.error().context().size, 2 * MiB);
  }
  EXPECT_TRUE(pool.deallocate(whole, 4 * MiB));
}

TEST_F(OutOfMemory, ReleaseByNodeResetsThePoolWithoutAllocating) {
  auto options = poolOptions();
  options.capacity = 6 * MiB;
  MemoryPool pool(options);
  ASSERT_NE(pool.get(2 * MiB, 0), nullptr);
  ASSERT_NE(pool.get(2 * MiB, 0), nullptr);
  std::uint8_t* blocked = pool.allocate(64 * KiB);  // the pool is full now
  {
    NoMemoryLeft none;
    pool.release(0);
    pool.release(0);
    EXPECT_TRUE(pool.deallocate(blocked, 64 * KiB));  // the last live chunk: a reset
    auto again = pool.tryAllocate(64 * KiB);          // room again: a reclaim of free blocks
    EXPECT_TRUE(again.ok());
    if (again.ok()) {
      EXPECT_TRUE(pool.deallocate(again.value(), 64 * KiB));
    }
  }
  EXPECT_EQ(pool.stats().resets, 1U);
}

TEST_F(OutOfMemory, NumaPoolErrorsAreStillErrors) {
  NumaMemoryPool pool(poolOptions(), Topology::fromDistances({0}, {{10}}));
  NoMemoryLeft none;
  EXPECT_FALSE(pool.tryAllocate(2 * MiB, 5).ok()) << "an unknown node";
  EXPECT_FALSE(pool.tryAllocate(2 * MiB, 0).ok()) << "no memory to make node 0's pool";
}

TEST_F(OutOfMemory, VirtualMemoryTryAllocateReturnsAnError) {
  VirtualMemoryOptions options;
  options.size = 4 * MiB;
  NoMemoryLeft none;
  auto memory = VirtualMemory::tryAllocate(options);
  ASSERT_FALSE(memory.ok());
  EXPECT_EQ(memory.error().code(), ErrorCode::OutOfMemory);
  EXPECT_EQ(memory.error().context().size, 4 * MiB);
}

TEST(OsFailure, KeepsItsCodeWhenThereIsNoMemoryForTheMessage) {
  const os::Status denied{os::Status::Kind::NoPermission, 13};
  const std::string_view what = "changing the count, a message long enough to need the heap";
  std::optional<Error> error;
  {
    NoMemoryLeft none;
    error.emplace(osFailure(denied, what, {.node = 1U}));
  }
  EXPECT_EQ(error->code(), ErrorCode::PermissionDenied) << error->what();
  EXPECT_EQ(error->context().osError, 13);
  EXPECT_EQ(error->context().node, 1U);
  EXPECT_EQ(osFailure(denied, what).code(), ErrorCode::PermissionDenied);
}

}  // namespace
}  // namespace xmem
