// Executable memory on the real kernel: JIT code runs from RX memory, writes to it fault, RWX is
// refused unless asked, and huge pages work for code too.
#include "kernel/kernel_test.h"

#include <gmock/gmock.h>

#include <cstring>

namespace xmem::testing {
namespace {

#if defined(__x86_64__)
// mov eax, 42 ; ret
constexpr std::uint8_t kReturn42[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3};

int callCode(const std::uint8_t* code) {
  using Function = int (*)();
  Function function;
  std::memcpy(&function, &code, sizeof function);
  return function();
}
#endif

class Protection : public KernelTest {
 protected:
  void SetUp() override {
#if !defined(__x86_64__)
    GTEST_SKIP() << "the test's machine code is x86-64";
#endif
    KernelTest::SetUp();
  }
};

TEST_F(Protection, ReadExecuteMemoryRunsCodeAndRefusesWrites) {
#if defined(__x86_64__)
  auto jit = VirtualMemory::allocateExecutableMemory(4096, false);
  std::memcpy(jit.data(), kReturn42, sizeof kReturn42);
  jit.protectRX();
  EXPECT_EQ(callCode(jit.data()), 42);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH({ jit.data()[0] = 0x90; }, "");
  jit.protectRW();
  jit.data()[1] = 7;  // writable again
  jit.protectRX();
  EXPECT_EQ(callCode(jit.data()), 7);
#endif
}

TEST_F(Protection, WriteExecuteIsRefusedUnlessAsked) {
#if defined(__x86_64__)
  auto jit = VirtualMemory::allocateExecutableMemory(4096, false);
  EXPECT_THROW(jit.protectRWX(), Error);
  VirtualMemoryOptions o;
  o.size = 4096;
  o.executable = true;
  o.allowWriteExecute = true;
  VirtualMemory rwx(o);
  rwx.protectRWX();
  std::memcpy(rwx.data(), kReturn42, sizeof kReturn42);
  EXPECT_EQ(callCode(rwx.data()), 42) << "written and run without a protection change";
#endif
}

TEST_F(Protection, JitCodeOnHugePages) {
  XMEM_REQUIRE_NATIVE_PLATFORM("maps JIT code on 2 MiB pages");
#if defined(__x86_64__)
  XMEM_REQUIRE_ROOT("reserves a 2 MiB page");
  HugePageReservation pages(kHugePageSize, 1);
  ASSERT_EQ(pages.obtained(), 1U);
  auto jit = VirtualMemory::allocateExecutableMemory(2 * MiB, true);
  EXPECT_EQ(jit.report().hugeTlbBytes(), 2 * MiB) << jit.report().summary();
  std::memcpy(jit.data(), kReturn42, sizeof kReturn42);
  jit.protectRX();
  EXPECT_EQ(callCode(jit.data()), 42);
  EXPECT_EQ(smapsAt(jit.data()).kernelPageSize, 2 * MiB);
#endif
}

TEST_F(Protection, StaticFormsCoverTheWholePagesOfARange) {
#if defined(__x86_64__)
  auto jit = VirtualMemory::allocateExecutableMemory(8192, false);
  std::memcpy(jit.data() + 4096, kReturn42, sizeof kReturn42);
  VirtualMemory::protectRX(jit.data() + 4096 + 10, 1);  // a byte inside the second page
  EXPECT_EQ(callCode(jit.data() + 4096), 42);
  VirtualMemory::protectRW(jit.data() + 4096, 4096);
  jit.data()[4096 + 1] = 9;
  VirtualMemory::protectRWX(jit.data(), 8192);
  EXPECT_EQ(callCode(jit.data() + 4096), 9);
  EXPECT_THROW(VirtualMemory::protectRX(nullptr, 10), Error);
#endif
}

}  // namespace
}  // namespace xmem::testing
