// `xmem bench`: what huge pages and NUMA placement buy on this machine, and whether xmem is the
// best way to get them. Each memory strategy on a dataset-sized buffer (first touch, latency,
// throughput, a RandomX-shaped loop), then the real workload: librandomx's hashrate with its memory
// from the system allocator, librandomx's own large pages, xmem, glibc's tunables and the peer
// allocators, all in one run with ratios to the 4 KiB baseline.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace xmem::cli {

struct BenchOptions {
  std::string profile = "rx/0";
  bool quick = false;          ///< under a minute: fewer reads, one round, RandomX in light mode
  std::size_t buffer = 0;      ///< bytes of the synthetic buffer; 0: the profile's dataset (or cache)
  unsigned threads = 0;        ///< 0: one per CPU
  unsigned rounds = 0;         ///< synthetic rounds; 0: 1 quick, 5 full
  unsigned randomxRounds = 0;  ///< rounds in which every librandomx source hashes in turn; 0: 3 quick, 12 full
  double hashSeconds = 0;      ///< each source's hashing per round; 0: 0.6 quick, 3 full
  bool synthetic = true;
  bool randomx = true;
  bool json = false;
  std::string svgFile;         ///< write a plot of the ratios there
};

int runBench(const BenchOptions& options, std::ostream& out, std::ostream& err);
void addBenchCommand(CLI::App& app);

}  // namespace xmem::cli
