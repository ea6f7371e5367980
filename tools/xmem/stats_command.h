// `xmem stats`: what memory really is now, for this machine and any running process (read from
// outside: an unmodified XMRig, or a program under `xmem run`), as text, JSON or Prometheus text
// (also a node_exporter textfile-collector file).
#pragma once

#include <xmem/snapshot.h>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace xmem::cli {

enum class StatsFormat { Text, Json, Prometheus };

struct StatsOptions {
  std::vector<std::int64_t> pids;
  StatsFormat format = StatsFormat::Text;
  std::string output;                  ///< write here (atomically) instead of standard output
  std::size_t minMappingBytes = 2 * MiB;
  bool bandwidth = false;              ///< measure memory bandwidth first (takes seconds; loads the machine)
  std::optional<double> hashrate;      ///< a RandomX hashrate, for the bandwidth it implies
};

/// Checks of --pid and --hashrate that name the value and what is expected.
CLI::Validator processIdCheck();
CLI::Validator hashrateCheck();

/// The snapshot the options ask for.
Snapshot takeStats(const StatsOptions& options);
/// Writes it in the format asked. Returns the exit code: 1 when a process asked for could not be read.
int runStats(const StatsOptions& options, std::ostream& out, std::ostream& err);
/// The text report.
void printStats(const Snapshot& snapshot, std::ostream& out);
void addStatsCommand(CLI::App& app);

}  // namespace xmem::cli
