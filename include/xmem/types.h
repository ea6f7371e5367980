// Vocabulary types shared by the public API and the os layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <string_view>
#include <vector>

namespace xmem {

inline constexpr std::size_t KiB = std::size_t{1} << 10;
inline constexpr std::size_t MiB = std::size_t{1} << 20;
inline constexpr std::size_t GiB = std::size_t{1} << 30;

/// The explicit huge page sizes of x86-64, the platform xmem tunes for. Other page sizes the
/// kernel offers (arm64's 64 KiB / 32 MiB / 512 MiB) are still probed and usable by size.
inline constexpr std::size_t kHugePageSize = 2 * MiB;
inline constexpr std::size_t kOneGbPageSize = 1 * GiB;

/// Access rights of a range. JIT code goes ReadWrite -> ReadExecute (W^X); ReadWriteExecute
/// exists for callers that explicitly ask for it.
enum class Protection : std::uint8_t { None, Read, ReadWrite, ReadExecute, ReadWriteExecute };

/// How a mapping is tied to NUMA nodes. Each policy says what happens when it cannot be honoured:
/// - None:       no policy; the kernel places pages where the touching thread runs.
/// - Preferred:  pages go to the node while it has memory, then elsewhere; never fails.
///               A failed bind call is reported and the memory is kept.
/// - Bind:       pages only on the given node(s); the allocation fails (and falls back to the next
///               page kind) rather than putting a page elsewhere.
/// - Interleave: pages spread round-robin over the given nodes; a failed bind call is reported.
enum class NumaPolicy : std::uint8_t { None, Preferred, Bind, Interleave };

/// What kind of pages back a part of a mapping.
enum class PageKind : std::uint8_t {
  HugeTlb,      ///< explicit huge pages (hugetlbfs / MEM_LARGE_PAGES), reserved up front
  Transparent,  ///< base pages advised for transparent huge pages; the kernel decides at fault
  Base,         ///< ordinary base pages (4 KiB on x86-64)
  Pool,         ///< a chunk of a memory pool's backing mapping
};

/// "2080 MiB", "1 GiB", "4 KiB", "1.5 GiB": binary units, exact when the value is whole.
std::string formatBytes(std::uint64_t bytes);
/// "2M", "64KiB", "1g", "4096": bytes; nullopt for anything else (and for 0).
std::optional<std::size_t> parseSize(std::string_view text);

std::string_view toString(Protection value) noexcept;
std::string_view toString(NumaPolicy value) noexcept;
std::string_view toString(PageKind value) noexcept;

/// A set of NUMA node ids (0 .. kMaxNodes-1), laid out as the kernel's node masks are.
class NodeSet {
 public:
  static constexpr std::uint32_t kMaxNodes = 1024;

  NodeSet() = default;
  NodeSet(std::initializer_list<std::uint32_t> nodes) {
    for (auto node : nodes) add(node);
  }
  static NodeSet single(std::uint32_t node) { return NodeSet{node}; }

  void add(std::uint32_t node) noexcept {
    if (node < kMaxNodes) words_[node / 64] |= std::uint64_t{1} << (node % 64);
  }
  bool contains(std::uint32_t node) const noexcept {
    return node < kMaxNodes && ((words_[node / 64] >> (node % 64)) & 1U) != 0;
  }
  bool empty() const noexcept {
    for (auto word : words_)
      if (word != 0) return false;
    return true;
  }
  std::vector<std::uint32_t> nodes() const;
  const std::uint64_t* words() const noexcept { return words_.data(); }
  static constexpr std::size_t wordCount() noexcept { return kMaxNodes / 64; }
  bool operator==(const NodeSet&) const = default;

 private:
  std::array<std::uint64_t, kMaxNodes / 64> words_{};
};

/// Round `value` up to a multiple of `alignment` (a power of two).
constexpr std::size_t alignUp(std::size_t value, std::size_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}
constexpr std::size_t alignDown(std::size_t value, std::size_t alignment) noexcept {
  return value & ~(alignment - 1);
}
constexpr bool isPowerOfTwo(std::size_t value) noexcept {
  return value != 0 && (value & (value - 1)) == 0;
}

}  // namespace xmem
