#include "run_command.h"

#include "command_line.h"

#include <xmem/environment.h>
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

std::string helpOf(const PreloadVariable& variable) {
  return std::string(variable.meaning) + " (" + variable.values + "; default " + variable.defaultValue + ") [" + variable.name + "]";
}

}  // namespace

std::string findPreloadLibrary() {
  if (const char* given = std::getenv(kPreloadLibraryVariable)) return given;
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
    parsed.errors.push_back(std::string(kPreloadNodeVariable) + "='" + std::to_string(parsed.policy.node) +
                            "': this machine has node(s) " + nodes);
  }
  if (!parsed.errors.empty()) {
    for (const auto& error : parsed.errors) fmt::print(err, "xmem run: {}\n", error);
    return 2;
  }
  const std::string library = options.library.empty() ? findPreloadLibrary() : options.library;
  std::error_code error;
  if (library.empty() || !fs::exists(library, error)) {
    fmt::print(err, "xmem run: libxmem-preload.so not found{}; give it with --preload-library or {}\n", library.empty() ? "" : " at '" + library + "'", kPreloadLibraryVariable);
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
  // One option per XMEM_PRELOAD_* variable, from the library's list; its parser checks the values.
  for (const auto& variable : preloadVariables()) {
    std::string& text = (*values)[variable.name];
    if (variable.switchValue != nullptr)
      command->add_flag(std::string(variable.flag) + "{" + variable.switchValue + "}", text, helpOf(variable));
    else
      command->add_option(variable.flag, text, helpOf(variable));
  }
  for (const auto& variable : placeVariables())
    if (variable.name == kPreloadLibraryVariable)
      command->add_option(std::string(variable.flag), options->library,
                          std::string(variable.meaning) + " [" + std::string(variable.name) + "]");
  command->add_option("command", options->command, "The program and its arguments, after --")->required();
  command->callback([options, values, command] {
    for (const auto& variable : preloadVariables())
      if (command->count(variable.flag) != 0) options->variables[variable.name] = (*values)[variable.name];
    finishCommand("run", [&] { return runProgram(*options, std::cerr); });
  });
}

}  // namespace xmem::cli
