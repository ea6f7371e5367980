// The preload library's table of served blocks: released slots must not make lookups walk far.
#include "preload/served_table.h"

#include <gtest/gtest.h>

#include <memory>

namespace xmem::preload {
namespace {

constexpr std::uintptr_t kBlock = 2 * 1024 * 1024;
using Table = ServedTable<int, 1 << 16>;

TEST(ServedTable, FindsWhatWasPublishedAndNotWhatWasReleased) {
  auto table = std::make_unique<Table>();
  auto* slot = table->claim(5 * kBlock);
  ASSERT_NE(slot, nullptr);
  slot->record = 42;
  EXPECT_EQ(table->find(5 * kBlock), nullptr) << "claimed, not yet published";
  table->publish(slot, 5 * kBlock);
  ASSERT_EQ(table->find(5 * kBlock), slot);
  EXPECT_EQ(table->find(5 * kBlock)->record, 42);
  EXPECT_EQ(table->count(), 1U);
  table->release(slot);
  EXPECT_EQ(table->find(5 * kBlock), nullptr);
  EXPECT_EQ(table->count(), 0U);
}

// Many distinct blocks come and go (a program that maps datasets at new addresses): every slot
// they touched becomes a tombstone. A lookup of an absent key used to walk all of them.
TEST(ServedTable, AbsentKeysStayCheapAfterManyDistinctBlocksCameAndWent) {
  auto table = std::make_unique<Table>();
  for (std::uintptr_t i = 1; i <= 200'000; ++i) {
    auto* slot = table->claim(i * kBlock);
    ASSERT_NE(slot, nullptr);
    table->publish(slot, i * kBlock);
    table->release(slot);
  }
  std::size_t probes = 0;
  EXPECT_EQ(table->find(300'001 * kBlock, &probes), nullptr);
  EXPECT_LE(probes, 2U) << "slots looked at for an absent key";
  // Keys that collide still find each other: the bound is the farthest any key sat from home.
  std::vector<Table::Slot*> live;
  for (std::uintptr_t i = 1; i <= 5'000; ++i) {
    auto* slot = table->claim(i * kBlock);
    ASSERT_NE(slot, nullptr);
    table->publish(slot, i * kBlock);
    live.push_back(slot);
  }
  for (std::uintptr_t i = 1; i <= 5'000; ++i) ASSERT_EQ(table->find(i * kBlock), live[i - 1]) << i;
  EXPECT_EQ(table->find(300'001 * kBlock, &probes), nullptr);
  EXPECT_LE(probes, table->farthest() + 1);
}

}  // namespace
}  // namespace xmem::preload
