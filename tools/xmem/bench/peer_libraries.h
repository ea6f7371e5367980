// Finding the peer allocators `xmem bench` preloads into librandomx (mimalloc, jemalloc) as the
// dynamic linker would: by soname, through LD_LIBRARY_PATH and then the linker's cache, so no
// distribution's library directory is spelled here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem::bench {

/// A library's path from its soname; empty when it is not installed.
using LibraryLookup = std::function<std::string(const std::string& soname)>;

struct LinkerCacheEntry {
  std::string soname;
  std::string path;
};

/// The entries of `ldconfig -p`'s listing ("\tlibm.so.6 (libc6,x86-64) => /lib/.../libm.so.6"), in
/// its order, which is the linker's; the other lines are left out.
std::vector<LinkerCacheEntry> parseLinkerCache(std::string_view listing);

/// A lookup that tries each of `directories` (as LD_LIBRARY_PATH), then `cache`, and takes the first
/// file `usable` accepts (one of this process's kind: the cache lists 32-bit libraries too).
LibraryLookup lookupIn(std::vector<std::string> directories, std::vector<LinkerCacheEntry> cache,
                       std::function<bool(const std::string& path)> usable);

/// This system's lookup: LD_LIBRARY_PATH, then `ldconfig -p`; ELF files of this process's class
/// and machine only.
LibraryLookup systemLibraryLookup();

}  // namespace xmem::bench
