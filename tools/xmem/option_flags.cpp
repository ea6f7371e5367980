#include "option_flags.h"

#include <xmem/error.h>

#include <algorithm>

namespace xmem::cli {
namespace {

// Checks a flag's text with the table's own parser, on a config thrown away.
CLI::Validator checkedAs(const ConfigKey& key) {
  const std::string name(key.key);
  return CLI::Validator(
      [name](std::string& text) -> std::string {
        MemoryConfig scratch;
        try {
          applyOptionText(scratch, name, text, "");
        } catch (const Error& error) {
          return error.what();
        }
        return {};
      },
      "");
}

std::string helpOf(const ConfigKey& key) {
  std::string help(key.help);
  if (key.flagTakesValue) help += ": " + std::string(key.takes);
  return help + " [" + std::string(key.environment) + "]";
}

}  // namespace

void OptionFlags::add(CLI::App& command, OptionUse use, std::string_view checkedByCaller) {
  checkedByCaller_ = checkedByCaller;
  for (const auto& key : memoryConfigKeys())
    if (use == OptionUse::Allocation || key.use == OptionUse::Plan) addKey(command, key);
}

void OptionFlags::add(CLI::App& command, std::initializer_list<std::string_view> keys, std::string_view checkedByCaller) {
  checkedByCaller_ = checkedByCaller;
  for (const auto& key : memoryConfigKeys())
    if (std::find(keys.begin(), keys.end(), key.key) != keys.end()) addKey(command, key);
}

void OptionFlags::addKey(CLI::App& command, const ConfigKey& key) {
  std::string& text = text_[std::string(key.key)];
  std::string names(key.flag);
  if (!key.shortFlag.empty()) names += "," + std::string(key.shortFlag);
  if (!key.flagTakesValue) {
    // One switch with both names, so the last one typed wins: --huge-pages / --no-huge-pages.
    if (!key.negation.empty()) names += ",!" + std::string(key.negation);
    added_.push_back({command.add_flag(names, text, helpOf(key))->check(checkedAs(key)), std::string(key.key)});
    return;
  }
  auto* option = command.add_option(names, text, helpOf(key));
  if (key.key != checkedByCaller_) option->check(checkedAs(key));
  added_.push_back({option, std::string(key.key)});
  if (key.negation.empty()) return;
  auto* negation = command.add_flag(std::string(key.negation) + "{false}", text, "Same as " + std::string(key.flag) + " false");
  option->excludes(negation);
  added_.push_back({negation, std::string(key.key)});
}

std::vector<CLI::Option*> OptionFlags::options() const {
  std::vector<CLI::Option*> out;
  for (const auto& added : added_) out.push_back(added.option);
  return out;
}

void OptionFlags::apply(MemoryConfig& config) const {
  for (const auto& [option, key] : added_)
    if (option->count() != 0 && key != checkedByCaller_) applyOptionText(config, key, text_.at(key), "--" + option->get_lnames().front());
}

std::optional<std::string> OptionFlags::typed(std::string_view key) const {
  for (const auto& added : added_)
    if (added.key == key && added.option->count() != 0) return text_.find(key)->second;
  return std::nullopt;
}

}  // namespace xmem::cli
