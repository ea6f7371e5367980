// The library says what is missing as data (MissingPages, ReservationStep, ReservationHelp, an
// Error's context); these spell it as the command lines a person runs on this system.
#pragma once

#include <xmem/error.h>
#include <xmem/huge_pages.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace xmem::cli {

/// "2M", "1G": a page size as `xmem reserve --page-size` takes it.
std::string pageSizeFlag(std::size_t pageSize);
/// "xmem reserve --node 0 --page-size 1G --count 2   # or: echo 6 > FILE"
std::string reserveCommand(const MissingPages& missing);
/// The shell commands of a reservation's steps ("echo 16 > FILE", ...).
std::vector<std::string> stepCommands(const Reservation& reservation);
/// What a ReservationHelp means for `pageSize` pages, in words and commands.
std::string helpText(ReservationHelp help, std::size_t pageSize);
/// A reservation's advice with its help, as one line.
std::string adviceText(const Reservation& reservation, std::size_t pageSize);
/// For reserveHugePages' PermissionDenied: the command that works as root, from the error's
/// context ("Run: sudo xmem reserve --page-size 2M --node 1 --total 4   (or: echo 4 | sudo tee FILE)").
std::optional<std::string> rootCommandFor(const Error& error);

}  // namespace xmem::cli
