// Finding peer allocators by soname, with the linker's cache and the file check injected.
#include "peer_libraries.h"
#include "sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace xmem::bench {
namespace {

using ::testing::HasSubstr;

constexpr char kListing[] =
    "3 libs found in cache `/etc/ld.so.cache'\n"
    "\tlibmimalloc.so.2 (libc6) => /usr/lib/i386-linux-gnu/libmimalloc.so.2\n"
    "\tlibmimalloc.so.2 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libmimalloc.so.2\n"
    "\tlibjemalloc.so.2 (libc6,x86-64) => /opt/lib64/libjemalloc.so.2\n";

auto notI386 = [](const std::string& path) { return path.find("i386") == std::string::npos; };

TEST(PeerLibraries, ParsesTheLinkerCacheInItsOrder) {
  const auto entries = parseLinkerCache(kListing);
  ASSERT_EQ(entries.size(), 3U) << "the count line is not an entry";
  EXPECT_EQ(entries[0].soname, "libmimalloc.so.2");
  EXPECT_EQ(entries[0].path, "/usr/lib/i386-linux-gnu/libmimalloc.so.2");
  EXPECT_EQ(entries[2].path, "/opt/lib64/libjemalloc.so.2");
  EXPECT_TRUE(parseLinkerCache("").empty());
}

TEST(PeerLibraries, TakesTheFirstFileOfThisProcessKindAndNothingElse) {
  const auto find = lookupIn({}, parseLinkerCache(kListing), notI386);
  EXPECT_EQ(find("libmimalloc.so.2"), "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2") << "the 32-bit one is skipped";
  EXPECT_EQ(find("libjemalloc.so.2"), "/opt/lib64/libjemalloc.so.2") << "no directory is assumed";
  EXPECT_EQ(find("libtcmalloc.so.4"), "");
}

TEST(PeerLibraries, LibraryPathDirectoriesComeFirst) {
  const auto dir = std::filesystem::temp_directory_path() / ("xmem-peers-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream((dir / "libjemalloc.so.2").string()) << "x";
  const auto find = lookupIn({"/nonexistent", dir.string()}, parseLinkerCache(kListing), notI386);
  EXPECT_EQ(find("libjemalloc.so.2"), (dir / "libjemalloc.so.2").string());
  EXPECT_EQ(find("libmimalloc.so.2"), "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2");
  std::filesystem::remove_all(dir);
}

TEST(PeerLibraries, TheSystemLookupFindsTheCLibraryThisProcessUses) {
  EXPECT_THAT(systemLibraryLookup()("libc.so.6"), HasSubstr("libc.so.6"));
  EXPECT_EQ(systemLibraryLookup()("libxmem-no-such-library.so.9"), "");
}

const Source* named(const std::vector<Source>& list, const std::string& name) {
  const auto it = std::find_if(list.begin(), list.end(), [&](const Source& s) { return s.name == name; });
  return it == list.end() ? nullptr : &*it;
}

TEST(Sources, APeerNotInstalledIsSkippedByName) {
  const auto list = sources(false, 2, "/x/libxmem-preload.so", [](const std::string& soname) {
    return soname == "libmimalloc.so.2" ? std::string("/found/libmimalloc.so.2") : std::string();
  });
  const auto* mimalloc = named(list, "mimalloc, large OS pages");
  ASSERT_NE(mimalloc, nullptr);
  EXPECT_EQ(mimalloc->unavailable, "");
  EXPECT_EQ(mimalloc->environment.front(), "LD_PRELOAD=/found/libmimalloc.so.2");
  const auto* jemalloc = named(list, "jemalloc, THP");
  ASSERT_NE(jemalloc, nullptr);
  EXPECT_THAT(jemalloc->unavailable, HasSubstr("libjemalloc.so.2 not installed"));
}

TEST(Sources, PagesComeFromTheRandomxProfile) {
  const auto none = [](const std::string&) { return std::string(); };
  const auto fast = sources(false, 2, "p", none);
  // rx/0: 2080 MiB dataset (1040 pages), 256 MiB cache (128), 2 MiB per thread plus two spare.
  EXPECT_EQ(named(fast, "librandomx LARGE_PAGES")->needs.twoMbPages, 1040U + 128U + 4U);
  const auto* gigabytes = named(fast, "xmem, 1 GiB dataset");
  ASSERT_NE(gigabytes, nullptr);
  EXPECT_EQ(gigabytes->needs.oneGbPages, 2U);
  EXPECT_EQ(gigabytes->needs.twoMbPages, 16U + 128U + 4U + 8U) << "the dataset's 32 MiB past 2 GiB, cache, pads, spare";
  const auto light = sources(true, 2, "p", none);
  EXPECT_EQ(named(light, "librandomx LARGE_PAGES")->needs.twoMbPages, 128U + 4U);
  EXPECT_EQ(named(light, "xmem, 1 GiB dataset"), nullptr);
  EXPECT_EQ(bytesHeld(*named(light, "system allocator (4 KiB)"), true, 2), 256U * 1024 * 1024 + 4U * 1024 * 1024);
}

}  // namespace
}  // namespace xmem::bench
