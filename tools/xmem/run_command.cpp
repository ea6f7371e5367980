#include "run_command.h"

#include <xmem/preload_policy.h>
#include <xmem/system_info.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace xmem::cli {
namespace {

namespace fs = std::filesystem;

struct RunOption {
  const char* flag;
  const char* variable;
  const char* help;
};

// Each option sets one XMEM_PRELOAD_* variable; the library's parser checks the values.
constexpr RunOption kRunOptions[] = {
    {"--threshold", "XMEM_PRELOAD_THRESHOLD", "Serve requests of at least this size (default 2M)"},
    {"--pages", "XMEM_PRELOAD_PAGES", "Page kinds allowed: a list of 1g, 2m, thp, or none (default 1g,2m,thp)"},
    {"--1gb-above", "XMEM_PRELOAD_1GB_ABOVE", "1 GiB pages only for requests of at least this size (default 1G)"},
    {"--node", "XMEM_PRELOAD_NODE", "local, interleave, none, or a node number to bind to (default local)"},
    {"--prefault-above", "XMEM_PRELOAD_PREFAULT_ABOVE", "Fault in with every core from this size, or never (default 64M)"},
    {"--pool", "XMEM_PRELOAD_POOL", "First size of the per-node pool for requests of 2M to 64M, or off (default 8M)"},
    {"--report", "XMEM_PRELOAD_REPORT", "Print what each large allocation got: exit, signal, or exit,signal"},
    {"--report-signal", "XMEM_PRELOAD_REPORT_SIGNAL", "Signal for the report: USR1, USR2 or a number (default USR2)"},
    {"--report-file", "XMEM_PRELOAD_REPORT_FILE", "Append the report to this file instead of standard error"},
};

}  // namespace

std::string findPreloadLibrary() {
  if (const char* given = std::getenv("XMEM_PRELOAD_LIBRARY")) return given;
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const auto prefix = self.parent_path().parent_path();
    for (const auto& candidate : {prefix / "lib" / "libxmem-preload.so", prefix / "lib64" / "libxmem-preload.so",
                                  prefix / "lib" / "x86_64-linux-gnu" / "libxmem-preload.so"})
      if (fs::exists(candidate, error)) return candidate.string();
  }
#ifdef XMEM_BUILD_PRELOAD_LIBRARY
  if (fs::exists(XMEM_BUILD_PRELOAD_LIBRARY, error)) return XMEM_BUILD_PRELOAD_LIBRARY;
#endif
  return {};
}

int runProgram(const RunCommandOptions& options, std::ostream& err) {
  for (const auto& [variable, value] : options.variables) ::setenv(variable.c_str(), value.c_str(), 1);
  auto parsed = parsePreloadPolicy([](const char* name) { return std::getenv(name); });
  if (parsed.policy.nodeMode == PreloadPolicy::NodeMode::Fixed && !SystemInfo::get()->hasNode(parsed.policy.node)) {
    std::string nodes;
    for (const auto& node : SystemInfo::get()->nodes) nodes += (nodes.empty() ? "" : ", ") + std::to_string(node.id);
    parsed.errors.push_back("XMEM_PRELOAD_NODE='" + std::to_string(parsed.policy.node) +
                            "': this machine has node(s) " + nodes);
  }
  if (!parsed.errors.empty()) {
    for (const auto& error : parsed.errors) fmt::print(err, "xmem run: {}\n", error);
    return 2;
  }
  const std::string library = options.library.empty() ? findPreloadLibrary() : options.library;
  std::error_code error;
  if (library.empty() || !fs::exists(library, error)) {
    fmt::print(err, "xmem run: libxmem-preload.so not found{}; give it with --preload-library or XMEM_PRELOAD_LIBRARY\n",
               library.empty() ? "" : " at '" + library + "'");
    return 2;
  }
  std::string preload = fs::absolute(library, error).string();
  if (const char* existing = std::getenv("LD_PRELOAD"); existing != nullptr && *existing != '\0')
    preload += std::string(":") + existing;
  ::setenv("LD_PRELOAD", preload.c_str(), 1);
  std::vector<char*> argv;
  for (const auto& word : options.command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  fmt::print(err, "xmem run: cannot run '{}': {}\n", options.command.front(), std::strerror(errno));
  return 127;
}

void addRunCommand(CLI::App& app) {
  auto options = std::make_shared<RunCommandOptions>();
  auto values = std::make_shared<std::map<std::string, std::string>>();
  auto* command = app.add_subcommand(
      "run", "Run an unmodified program with its large allocations on xmem memory (huge pages, NUMA placement, "
             "pre-faulting) through libxmem-preload.so: xmem run [OPTIONS] -- PROGRAM [ARGS...]. Smaller requests "
             "stay with the system allocator. The options set the XMEM_PRELOAD_* variables of the same meaning.");
  for (const auto& option : kRunOptions)
    command->add_option(option.flag, (*values)[option.variable], std::string(option.help) + " [" + option.variable + "]");
  auto lock = std::make_shared<bool>(false);
  command->add_flag("--lock", *lock, "Lock each allocation (mlock), best effort [XMEM_PRELOAD_LOCK]");
  command->add_option("--preload-library", options->library, "Path of libxmem-preload.so (default: found next to xmem)");
  command->add_option("command", options->command, "The program and its arguments, after --")->required();
  command->callback([options, values, command, lock] {
    for (const auto& option : kRunOptions)
      if (command->count(option.flag) != 0) options->variables[option.variable] = (*values)[option.variable];
    if (*lock) options->variables["XMEM_PRELOAD_LOCK"] = "1";
    std::exit(runProgram(*options, std::cerr));
  });
}

}  // namespace xmem::cli
