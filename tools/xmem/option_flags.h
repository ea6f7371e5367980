// The flags of the options table (xmem/config.h) on a command: --KEY, and --no-KEY where false is
// a value the key takes, with the table's help and variable. Their text is read as the key's
// XMEM_* variable is, so a flag, a variable and a config file say the same thing the same way.
#pragma once

#include <xmem/config.h>

#include <CLI/CLI.hpp>

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem::cli {

class OptionFlags {
 public:
  /// Adds the flags of every key for `use` (Plan: the plan's keys; Allocation: those and the
  /// allocation's). Each checks its value as it is parsed (a bad one is CLI11's validation error).
  /// `checkedByCaller`: a key whose flag text the caller checks and uses itself (apply() skips it).
  void add(CLI::App& command, OptionUse use, std::string_view checkedByCaller = {});
  /// The same for the named keys only (a command that takes a few of the table's options).
  void add(CLI::App& command, std::initializer_list<std::string_view> keys, std::string_view checkedByCaller = {});
  /// The options of the flags added, for needs()/excludes() between them and the command's own.
  std::vector<CLI::Option*> options() const;
  /// Applies the flags typed on the command line over `config` (its file and XMEM_* already in).
  void apply(MemoryConfig& config) const;
  /// The text typed for `key`'s flags, or nullopt when none was.
  std::optional<std::string> typed(std::string_view key) const;

 private:
  void addKey(CLI::App& command, const ConfigKey& key);

  struct Added {
    CLI::Option* option;
    std::string key;
  };
  std::string checkedByCaller_;
  std::map<std::string, std::string, std::less<>> text_;  // by key; a map, as CLI11 keeps references
  std::vector<Added> added_;
};

}  // namespace xmem::cli
