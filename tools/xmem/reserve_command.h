// `xmem reserve` / `xmem release`: huge pages per size and node, reversibly.
#pragma once

#include "workload_options.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace xmem::cli {

struct ReserveCommandOptions {
  std::string pageSize = "2M";
  std::optional<std::uint32_t> node;
  std::uint64_t count = 0;
  std::optional<std::uint64_t> total;
  bool noCompact = false;
  bool dryRun = false;
  bool persist = false;
  bool json = false;
  /// With forProfile: reserve what this workload's plan is missing, node by node. What the
  /// command line leaves out comes from --config and XMEM_*, as for `xmem plan`.
  bool forProfile = false;
  WorkloadOptions workload;
};

int runReserve(const ReserveCommandOptions& options, std::ostream& out, std::ostream& err);
int runRelease(bool dryRun, bool json, std::ostream& out, std::ostream& err);
void addReserveCommands(CLI::App& app);
/// At every start but release's: says which dead processes left huge pages reserved, and that
/// `xmem release` gives them back. Never fails: a machine it cannot read is not a start's problem.
void sayAbandonedReservations(std::ostream& err) noexcept;


}  // namespace xmem::cli
