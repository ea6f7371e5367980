#include "sources.h"

#include <xmem/profiles.h>
#include <xmem/types.h>

#include <algorithm>

namespace xmem::bench {
namespace {

/// What librandomx allocates, in 2 MiB pages. xmem-randomx runs librandomx as Debian builds it,
/// with RandomX's own configuration: the rx/0 profile's sizes.
struct RandomxPages {
  std::uint64_t dataset = 0;           ///< 0 in light mode
  std::uint64_t cache = 0;
  std::uint64_t scratchpads = 0;
  std::uint64_t datasetGigabytes = 0;  ///< the dataset as 1 GiB pages ...
  std::uint64_t datasetTail = 0;       ///< ... and the 2 MiB pages of the rest
};

std::uint64_t twoMbPages(std::size_t bytes) { return (bytes + kHugePageSize - 1) / kHugePageSize; }

RandomxPages randomxPages(bool light, unsigned threads) {
  const MemoryProfile& rx = *findProfile("rx/0");
  RandomxPages pages;
  pages.dataset = light ? 0 : twoMbPages(rx.datasetSize);
  pages.cache = twoMbPages(rx.cacheSize);
  // Two spare: librandomx rounds each allocation on large pages up to whole pages.
  pages.scratchpads = threads * twoMbPages(rx.scratchpadSize) + 2;
  pages.datasetGigabytes = rx.datasetSize / kOneGbPageSize;
  pages.datasetTail = twoMbPages(rx.datasetSize - pages.datasetGigabytes * kOneGbPageSize);
  return pages;
}

/// A peer allocator preloaded by soname: its path, or why it cannot run (not installed, named).
struct Peer {
  std::string preload;
  std::string unavailable;
};

Peer findPeer(const LibraryLookup& findLibrary, const std::string& soname, const std::string& debianPackage) {
  const auto path = findLibrary(soname);
  if (path.empty()) return {"LD_PRELOAD=", soname + " not installed (Debian package " + debianPackage + ")"};
  return {"LD_PRELOAD=" + path, {}};
}

}  // namespace

std::vector<Source> sources(bool light, unsigned threads, const std::string& preload, const LibraryLookup& findLibrary) {
  const auto pages = randomxPages(light, threads);
  const std::uint64_t spare = 8;  // for what else the process maps on them
  const std::uint64_t all = pages.dataset + pages.cache + pages.scratchpads;
  std::vector<Source> list;
  list.push_back({"system allocator (4 KiB)", {}, {}, {}, {}});
  list.push_back({"librandomx LARGE_PAGES", {}, {"--large-pages"}, {all, 0}, {}});
  const std::string noPreload = preload.empty() ? "libxmem-preload.so not found" : "";
  list.push_back({"xmem (no pages reserved)", {"LD_PRELOAD=" + preload}, {}, {}, noPreload});
  if (!light)
    list.push_back({"xmem, 1 GiB dataset", {"LD_PRELOAD=" + preload}, {},
                    {pages.datasetTail + pages.cache + pages.scratchpads + spare, pages.datasetGigabytes}, noPreload});
  list.push_back({"glibc hugetlb=1 (THP)", {"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, {}, {}, {}});
  list.push_back({"glibc hugetlb=2 (reserved)", {"GLIBC_TUNABLES=glibc.malloc.hugetlb=2"}, {}, {all + spare, 0}, {}});
  const auto mimalloc = findPeer(findLibrary, "libmimalloc.so.2", "libmimalloc2.0");
  // mimalloc 2.0's large OS pages are reserved 2 MiB pages (MAP_HUGETLB; no MADV_HUGEPAGE otherwise),
  // and it maps a block of 2 GiB by over-allocating, without them: they reach the cache, not the
  // dataset, so it gets only the pages it can use.
  list.push_back({"mimalloc, large OS pages", {mimalloc.preload, "MIMALLOC_LARGE_OS_PAGES=1"}, {},
                  {pages.cache + pages.scratchpads + spare, 0}, mimalloc.unavailable});
  // mimalloc's own way to huge pages for big blocks: 1 GiB pages reserved at start-up (its arena).
  const std::uint64_t mimallocGigabytes = all * kHugePageSize / kOneGbPageSize + 1;
  list.push_back({"mimalloc, 1 GiB pages reserved",
                  {mimalloc.preload, "MIMALLOC_LARGE_OS_PAGES=1",
                   "MIMALLOC_RESERVE_HUGE_OS_PAGES=" + std::to_string(mimallocGigabytes)},
                  {}, {spare, mimallocGigabytes}, mimalloc.unavailable});
  const auto jemalloc = findPeer(findLibrary, "libjemalloc.so.2", "libjemalloc2");
  list.push_back({"jemalloc, THP", {jemalloc.preload, "MALLOC_CONF=thp:always,metadata_thp:always"}, {}, {},
                  jemalloc.unavailable});
  list.push_back({"memkind hugetlb", {}, {}, {},
                  "librandomx takes no caller memory, and Debian's memkind ships no preload with a hugetlb kind "
                  "(no libautohbw.so; libmemtier.so tiers DRAM and DAX only)"});
  return list;
}

std::uint64_t bytesHeld(const Source& source, bool light, unsigned threads) {
  const MemoryProfile& rx = *findProfile("rx/0");
  const std::uint64_t own = (light ? 0 : rx.datasetSize) + rx.cacheSize + threads * rx.scratchpadSize;
  return std::max(own, source.needs.oneGbPages * kOneGbPageSize + source.needs.twoMbPages * kHugePageSize);
}

const SourceResult* systemSource(const std::vector<SourceResult>& results) {
  const SourceResult* system = nullptr;
  for (const auto& source : results)
    if (source.name.starts_with("system") && source.measured()) system = &source;
  return system;
}

double ratioToSystem(const SourceResult& source, const SourceResult* system) {
  return system != nullptr ? pairedRatio(source.rates, system->rates).median : 0.0;
}

}  // namespace xmem::bench
