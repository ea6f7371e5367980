// The preload library's ring of freed blocks, as its report's signal handler reads it.
#include "preload/freed_ring.h"

#include <gtest/gtest.h>

#include <vector>

namespace xmem::preload {
namespace {

struct Freed {
  int id;
};
using Ring = FreedRing<Freed, 4>;

std::vector<int> idsOf(const Ring& ring) {
  std::vector<int> ids;
  ring.forEach([&](const Freed& freed) { ids.push_back(freed.id); });
  return ids;
}

TEST(FreedRing, KeepsTheLastEntriesOldestFirst) {
  Ring ring;
  EXPECT_TRUE(idsOf(ring).empty());
  for (int id = 1; id <= 6; ++id) ring.add({id});
  EXPECT_EQ(idsOf(ring), (std::vector<int>{3, 4, 5, 6}));
}

// A signal can land on the thread that is writing an entry. The handler used to take the ring's
// spin lock, which that very thread held: it spun forever. Now it reads past the entry at once.
TEST(FreedRing, AReaderSkipsTheEntryBeingWrittenInsteadOfWaitingForIt) {
  Ring ring;
  ring.add({1});
  auto* writing = ring.beginWrite();  // as if interrupted halfway through add()
  ASSERT_NE(writing, nullptr);
  writing->record.id = 2;
  EXPECT_EQ(idsOf(ring), (std::vector<int>{1})) << "returns, without the entry being written";
  ring.finishWrite(writing);
  EXPECT_EQ(idsOf(ring), (std::vector<int>{1, 2}));
}

TEST(FreedRing, AWriterThatLapsAnotherDropsItsRecordRatherThanWait) {
  Ring ring;
  auto* slow = ring.beginWrite();
  ASSERT_NE(slow, nullptr);
  for (int id = 1; id <= 3; ++id) ring.add({id});
  ring.add({4});  // lands on the entry still being written: dropped
  slow->record.id = 9;
  ring.finishWrite(slow);
  EXPECT_EQ(idsOf(ring), (std::vector<int>{1, 2, 3, 9})) << "the slow entry holds its place in the ring";
}

}  // namespace
}  // namespace xmem::preload
