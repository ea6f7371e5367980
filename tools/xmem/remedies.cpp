#include "remedies.h"

#include <xmem/types.h>

namespace xmem::cli {

std::string pageSizeFlag(std::size_t pageSize) {
  // In the largest unit that divides it: arm64 has 64 KiB and 32 MiB pages, and 16 GiB ones.
  if (pageSize >= GiB && pageSize % GiB == 0) return std::to_string(pageSize / GiB) + "G";
  if (pageSize >= MiB && pageSize % MiB == 0) return std::to_string(pageSize / MiB) + "M";
  return std::to_string(pageSize / KiB) + "K";
}

std::string reserveCommand(const MissingPages& missing) {
  std::string command = "xmem reserve";
  if (missing.node) command += " --node " + std::to_string(*missing.node);
  command += " --page-size " + pageSizeFlag(missing.pageSize) + " --count " + std::to_string(missing.pages);
  if (!missing.countFile.empty()) command += "   # or: echo " + std::to_string(missing.total) + " > " + missing.countFile;
  return command;
}

std::vector<std::string> stepCommands(const Reservation& reservation) {
  std::vector<std::string> commands;
  for (const auto& step : reservation.steps) {
    if (step.kind == ReservationStep::Kind::CompactMemory)
      commands.emplace_back("echo 1 > /proc/sys/vm/compact_memory");
    else
      commands.push_back("echo " + std::to_string(step.count) + " > " + reservation.path);
  }
  return commands;
}

std::string helpText(ReservationHelp help, std::size_t pageSize) {
  switch (help) {
    case ReservationHelp::DropCaches: return "dropping caches (echo 3 > /proc/sys/vm/drop_caches) can help";
    case ReservationHelp::ReserveAtBoot:
      return pageSize >= GiB ? "reserve them at boot with hugepagesz=" + pageSizeFlag(pageSize) +
                                   " hugepages=N on the kernel command line (xmem reserve --persist writes it)"
                             : "reserve them at boot: xmem reserve --persist (vm.nr_hugepages in sysctl.d)";
  }
  return {};
}

std::string adviceText(const Reservation& reservation, std::size_t pageSize) {
  std::string text = reservation.advice;
  for (auto help : reservation.help) text += (text.empty() ? "" : "; ") + helpText(help, pageSize);
  return text;
}

std::optional<std::string> rootCommandFor(const Error& error) {
  const auto& context = error.context();
  if (error.code() != ErrorCode::PermissionDenied || !context.pageSize || !context.pages) return std::nullopt;
  std::string command = "Run: sudo xmem reserve --page-size " + pageSizeFlag(*context.pageSize);
  if (context.node) command += " --node " + std::to_string(*context.node);
  command += " --total " + std::to_string(*context.pages);
  command += "   (or: echo " + std::to_string(*context.pages) + " | sudo tee " +
             hugePageCountFile(*context.pageSize, context.node) + ")";
  return command;
}

}  // namespace xmem::cli
