// The whole command line of `xmem`: main() is runCommandLine, and so is the command-line fuzzer.
#pragma once

#include <functional>
#include <string_view>

namespace xmem::cli {

/// Which commands do their work once their options are read and checked: every one in `xmem`.
/// The fuzzer lets through only those that change nothing and end at once.
using CommandFilter = std::function<bool(std::string_view command)>;

/// `xmem ARGS...`: reads the options, runs the command, returns its exit code.
int runCommandLine(int argc, const char* const* argv, CommandFilter mayRun = {});

/// Ends a command's callback: runs `work` (unless the filter holds the command back) and carries
/// its exit code out of CLI11's parse to runCommandLine.
[[noreturn]] void finishCommand(std::string_view command, const std::function<int()>& work);

}  // namespace xmem::cli
