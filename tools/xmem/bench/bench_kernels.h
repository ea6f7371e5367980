// The memory traffic `xmem bench` measures on each strategy's buffer: first touch, dependent and
// independent random reads, and a loop shaped like RandomX's (scratchpad levels plus one dataset
// line per iteration, with and without a prefetch of the next line).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xmem::bench {

/// Writes every byte once with non-zero values (a memset of zeros over zeroed memory takes a fast
/// path on some CPUs and would flatter everything). Returns seconds.
double touch(std::uint8_t* buffer, std::size_t size);
/// Seconds for memset of a non-zero value over the buffer: the speed first touch is measured against
/// (zeros over zeroed memory run 2.5x faster on this CPU kind and would flatter it).
double fill(std::uint8_t* buffer, std::size_t size);

/// Dependent 64-byte reads at random lines (each address comes from the line read before it):
/// the latency of a random access. Returns nanoseconds per read.
double dependentReadNs(const std::uint8_t* buffer, std::size_t size, std::size_t reads);

/// Independent random 64-byte reads by `threads` threads: what the memory system can serve.
/// Returns millions of reads per second, all threads together.
double independentReadsPerSecond(const std::uint8_t* buffer, std::size_t size, std::size_t readsPerThread,
                                 unsigned threads);

/// The size of each thread's scratchpad for randomxShapedIterationsPerSecond().
inline constexpr std::size_t kScratchpadSize = 2 * 1024 * 1024;

/// Per iteration: 8 reads and 2 writes at random offsets of the thread's 2 MiB scratchpad (16 KiB,
/// 256 KiB and 2 MiB levels, as RandomX's L1/L2/L3), then one 64-byte read of the dataset at an
/// offset known one iteration ahead, which `prefetch` hints early. One scratchpad per thread.
/// Returns thousands of iterations per second, all threads together.
double randomxShapedIterationsPerSecond(const std::uint8_t* dataset, std::size_t datasetSize,
                                        std::uint8_t* const* scratchpads, std::size_t iterationsPerThread,
                                        unsigned threads, bool prefetch);

}  // namespace xmem::bench
