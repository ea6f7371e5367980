#include <xmem/config.h>
#include <xmem/error.h>
#include <xmem/profiles.h>
#include <xmem/types.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>

namespace xmem {
namespace {

using json = nlohmann::json;

// Where a value came from, for messages: the file or variable, and the key as the user wrote it
// ("huge-pages" in xmem's file, "cpu.huge-pages" in XMRig's).
struct Where {
  std::string_view origin;
  std::string_view key;
};

// A value as a message quotes it. Text from a variable or a flag may be any bytes: invalid UTF-8
// is shown replaced, where dump() would throw json's type_error past every handler.
std::string shown(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Without an origin (a flag, whose name the command line's parser puts first) only the value.
[[noreturn]] void bad(const Where& where, const std::string& value, std::string_view expected) {
  const std::string what = where.origin.empty() ? value : std::string(where.origin) + ": \"" + std::string(where.key) + "\" is " + value;
  throw Error(ErrorCode::InvalidArgument, what + ": expected " + std::string(expected));
}

bool toBool(const json& value, const Where& where) {
  if (!value.is_boolean()) bad(where, shown(value), "true or false");
  return value.get<bool>();
}

std::uint64_t toCount(const json& value, const Where& where, std::uint64_t max, std::string_view expected = {}) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > max)
    bad(where, shown(value), expected.empty() ? "a whole number from 0 to " + std::to_string(max) : std::string(expected));
  return value.get<std::uint64_t>();
}

// How the text of an environment variable becomes the JSON value its key's parser reads: by what
// the key takes, so "1" is one thread for XMEM_THREADS and true for XMEM_LOCK.
enum class TextKind {
  Switch,           // 1, 0, true, false, yes, no, on, off
  SwitchOrNumber,   // as Switch, and other digits are a number (huge-pages: a page size in KB)
  WordOrNumber,     // true, false, yes, no, on, off are booleans; digits are a number, "1" too
  WordOrNodes,      // the words are booleans; "0" or "0,2" are node numbers
  Number,           // digits
  Text,             // as it is
};

struct Entry {
  std::string_view key;
  std::string_view xmrigKey;  // empty: xmem's own
  std::string_view takes;
  std::string_view help;
  TextKind text;
  OptionUse use;
  std::string_view shortFlag;
  std::function<void(MemoryConfig&, const json&, const Where&)> apply;
};

void applyHugePages(MemoryConfig& c, const json& v, const Where& w) {
  // XMRig takes a page size in KB here as well. xmem's explicit pages here are 2 MiB (2048 KB);
  // 1 GiB pages have their own option, so any other size would be a promise xmem does not keep.
  if (v.is_number_unsigned() && v.get<std::uint64_t>() == kHugePageSize / KiB) {
    c.hugePages = true;
    return;
  }
  if (!v.is_boolean()) bad(w, shown(v), "true, false or a page size in KB (2048; 1 GiB pages are \"1gb-pages\")");
  c.hugePages = v.get<bool>();
}

void applyMemoryPool(MemoryConfig& c, const json& v, const Where& w) {
  if (v.is_boolean()) {
    c.memoryPool = v.get<bool>();
    c.memoryPoolPages = 0;
    return;
  }
  c.memoryPoolPages = toCount(v, w, 1'000'000);
  c.memoryPool = c.memoryPoolPages != 0;
}

void applyNuma(MemoryConfig& c, const json& v, const Where& w) {
  if (v.is_boolean()) {
    c.numa = v.get<bool>();
    c.numaNodes.clear();
    return;
  }
  if (!v.is_array() || v.empty()) bad(w, shown(v), "true, false, or a non-empty list of node numbers");
  c.numa = true;
  c.numaNodes.clear();
  for (const auto& node : v) c.numaNodes.push_back(static_cast<std::uint32_t>(toCount(node, w, 1023)));
}

void applyPrefault(MemoryConfig& c, const json& v, const Where& w) {
  if (v.is_boolean()) {
    c.prefault = v.get<bool>();
    c.prefaultThreads = 0;
    return;
  }
  c.prefaultThreads = static_cast<unsigned>(toCount(v, w, 4096));
  c.prefault = c.prefaultThreads != 0;
}

void applyRandomXMode(MemoryConfig& c, const json& v, const Where& w) {
  const std::string mode = v.is_string() ? v.get<std::string>() : "";
  if (mode == "auto") c.randomxMode = RandomXMode::Auto;
  else if (mode == "fast") c.randomxMode = RandomXMode::Fast;
  else if (mode == "light") c.randomxMode = RandomXMode::Light;
  else bad(w, shown(v), "auto, fast or light");
}

// The one table: xmem's key, XMRig's dotted key, what it takes, what it does, how its text reads,
// which commands it matters to, its short flag, and how its value is checked and applied. The
// XMEM_* variable and the flags are made from the key (names() below), so they cannot drift.
const std::vector<Entry>& table() {
  using enum TextKind;
  static const std::vector<Entry> entries = {
      {"huge-pages", "cpu.huge-pages", "true, false or a page size in KB (2048)", "Explicit 2 MiB huge pages, else THP",
       SwitchOrNumber, OptionUse::Plan, "", applyHugePages},
      {"huge-pages-jit", "cpu.huge-pages-jit", "true or false", "JIT code on huge pages (one 2 MiB page per thread)",
       Switch, OptionUse::Plan, "", [](MemoryConfig& c, const json& v, const Where& w) { c.hugePagesJit = toBool(v, w); }},
      {"1gb-pages", "randomx.1gb-pages", "true or false", "The dataset on 1 GiB pages", Switch, OptionUse::Plan, "",
       [](MemoryConfig& c, const json& v, const Where& w) { c.oneGbPages = toBool(v, w); }},
      {"memory-pool", "cpu.memory-pool", "true, false, or a number of 2 MiB pages",
       "Scratchpads from one pool per node of at least this many 2 MiB pages", WordOrNumber, OptionUse::Plan, "",
       applyMemoryPool},
      {"numa", "randomx.numa", "true, false, or a list of node numbers", "Place memory per node, on these nodes only",
       WordOrNodes, OptionUse::Plan, "", applyNuma},
      {"thp", "", "true or false", "Transparent huge pages for what explicit pages do not cover", Switch,
       OptionUse::Allocation, "", [](MemoryConfig& c, const json& v, const Where& w) { c.transparentHugePages = toBool(v, w); }},
      {"lock", "", "true or false", "Lock the memory (mlock), reporting why when it cannot", Switch, OptionUse::Allocation,
       "", [](MemoryConfig& c, const json& v, const Where& w) { c.lock = toBool(v, w); }},
      {"prefault", "", "true, false, or a number of threads",
       "Fault the pages in at once with this many threads (true: every core), else on first touch", WordOrNumber,
       OptionUse::Allocation, "", applyPrefault},
      {"profile", "", "a profile name such as rx/0", "Algorithm profile, e.g. rx/0, rx/wow, cn/0, argon2/chukwa", Text,
       OptionUse::Plan, "-p",
       [](MemoryConfig& c, const json& v, const Where& w) {
         if (!v.is_string() || findProfile(v.get<std::string>()) == nullptr) bad(w, shown(v), "one of " + profileNames());
         c.profile = v.get<std::string>();
       }},
      {"threads", "", "a number of threads from 1 to 4096", "Worker threads (default: one per CPU)", Number,
       OptionUse::Plan, "-t",
       [](MemoryConfig& c, const json& v, const Where& w) {
         c.threads = static_cast<unsigned>(toCount(v, w, 4096, "a number of threads from 1 to 4096"));
         if (c.threads == 0) bad(w, "0", "a number of threads from 1 to 4096");
       }},
      {"randomx-mode", "randomx.mode", "auto, fast or light", "RandomX mode: light plans the cache alone, no dataset",
       Text, OptionUse::Plan, "", applyRandomXMode},
      {"scratchpad-prefetch-mode", "randomx.scratchpad_prefetch_mode",
       "0 (off), 1 (prefetcht0), 2 (prefetchnta) or 3 (mov)",
       "How the miner's RandomX code reads its scratchpad (checked and kept; no layout depends on it)", Number,
       OptionUse::Plan, "",
       [](MemoryConfig& c, const json& v, const Where& w) {
         c.scratchpadPrefetchMode = static_cast<unsigned>(toCount(v, w, 3, "0 (off), 1 (prefetcht0), 2 (prefetchnta) or 3 (mov)"));
       }},
  };
  return entries;
}

// Whether "false" is one of the values a key's text takes: then it has a --no-KEY flag.
bool takesFalse(TextKind text) { return text != TextKind::Number && text != TextKind::Text; }

// The names made from each key, in table order: XMEM_HUGE_PAGES, --huge-pages, --no-huge-pages.
struct Names {
  std::string environment, flag, negation;
};

const std::vector<Names>& names() {
  static const std::vector<Names> all = [] {
    std::vector<Names> out;
    for (const auto& entry : table()) {
      std::string environment = "XMEM_";
      for (const char c : entry.key) environment += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string key(entry.key);
      out.push_back({environment, "--" + key, takesFalse(entry.text) ? "--no-" + key : ""});
    }
    return out;
  }();
  return all;
}

const Entry* entryFor(std::string_view key) {
  for (const auto& entry : table())
    if (entry.key == key) return &entry;
  return nullptr;
}

const Entry* entryForXmrigKey(std::string_view dottedKey) {
  for (const auto& entry : table())
    if (!entry.xmrigKey.empty() && entry.xmrigKey == dottedKey) return &entry;
  return nullptr;
}

std::string knownKeys() {
  std::string keys;
  for (const auto& entry : table()) keys += (keys.empty() ? "" : ", ") + std::string(entry.key);
  return keys;
}

bool isDigits(std::string_view text) { return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos; }

// Digits that fit 64 bits; nullopt for anything else (a sign, a space, too many digits).
std::optional<std::uint64_t> wholeNumber(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!isDigits(text) || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> booleanWord(std::string_view text, bool oneAndZeroToo) {
  if (text == "true" || text == "yes" || text == "on" || (oneAndZeroToo && text == "1")) return true;
  if (text == "false" || text == "no" || text == "off" || (oneAndZeroToo && text == "0")) return false;
  return std::nullopt;
}

json fromText(const Entry& entry, const std::string& text, const Where& where) {
  const auto refuse = [&]() -> json { bad(where, isDigits(text) ? text : shown(json(text)), entry.takes); };
  const bool switchKind = entry.text == TextKind::Switch || entry.text == TextKind::SwitchOrNumber;
  if (entry.text != TextKind::Number && entry.text != TextKind::Text)
    if (auto word = booleanWord(text, switchKind)) return *word;
  switch (entry.text) {
    case TextKind::Switch:
      return refuse();
    case TextKind::SwitchOrNumber:
    case TextKind::WordOrNumber:
    case TextKind::Number:
      if (auto number = wholeNumber(text)) return *number;
      return refuse();
    case TextKind::WordOrNodes: {
      json nodes = json::array();
      std::string_view rest = text;
      while (true) {
        const auto comma = rest.find(',');
        auto node = wholeNumber(rest.substr(0, comma));
        if (!node) return refuse();
        nodes.push_back(*node);
        if (comma == std::string_view::npos) return nodes;
        rest.remove_prefix(comma + 1);
      }
    }
    case TextKind::Text:
      return text;
  }
  return refuse();
}

// One profile of XMRig's "cpu" section. Its threads come as a list of CPU numbers (-1: any),
// a list of [intensity, CPU] pairs, or {"intensity", "threads", "affinity"}; a string names the
// profile it borrows from and false disables the algorithm. Other values are XMRig's own options
// ("asm": true, "priority": null, ...); a profile only matters when an algorithm's name finds it,
// so those are skipped rather than told apart by name.
void readCpuProfile(MemoryConfig& config, const std::string& name, const json& value, const Where& where) {
  constexpr std::string_view kThreadList = "a list of CPU numbers (-1: any), a list of [intensity, CPU] pairs, or "
                                           "{\"intensity\": N, \"threads\": N, \"affinity\": N}";
  if (value.is_array()) {
    for (const auto& thread : value) {
      const bool cpu = thread.is_number_integer();
      const bool pair = thread.is_array() && thread.size() >= 2 && thread[0].is_number_integer() && thread[1].is_number_integer();
      if (!cpu && !pair) bad(where, shown(value), kThreadList);
    }
    if (value.size() > 4096) bad(where, "a list of " + std::to_string(value.size()), "at most 4096 threads");
    config.cpuProfiles[name] = {static_cast<unsigned>(value.size()), ""};
  } else if (value.is_object()) {
    const auto threads = value.find("threads");
    if (threads == value.end() || !threads->is_number_unsigned() || threads->get<std::uint64_t>() > 4096)
      bad(where, shown(value), kThreadList);
    config.cpuProfiles[name] = {static_cast<unsigned>(threads->get<std::uint64_t>()), ""};
  } else if (value.is_string()) {
    config.cpuProfiles[name] = {0, value.get<std::string>()};
  } else if (value.is_boolean() && !value.get<bool>()) {
    config.cpuProfiles[name] = {0, ""};
  }
}

// XMRig's config.json: nested "cpu" and "randomx" objects, and sections of its own besides.
bool hasXmrigShape(const json& document) {
  const auto cpu = document.find("cpu");
  const auto randomx = document.find("randomx");
  return (cpu != document.end() && cpu->is_object()) || (randomx != document.end() && randomx->is_object());
}

void readXmrig(const json& document, MemoryConfig& config, std::string_view origin) {
  // xmem's own keys beside XMRig's sections are read as strictly as in xmem's file.
  for (const auto& [key, value] : document.items())
    if (const Entry* entry = entryFor(key)) entry->apply(config, value, {origin, key});
  for (const std::string section : {"cpu", "randomx"}) {
    const auto found = document.find(section);
    if (found == document.end() || !found->is_object()) continue;  // "cpu": true only turns XMRig's backend on
    for (const auto& [key, value] : found->items()) {
      const std::string dotted = section + "." + key;
      if (const Entry* entry = entryForXmrigKey(dotted)) entry->apply(config, value, {origin, dotted});
      else if (section == "cpu") readCpuProfile(config, key, value, {origin, dotted});
    }
  }
}

}  // namespace

unsigned MemoryConfig::threadsFor(std::string_view name) const {
  const std::string_view family = name.substr(0, name.find('/'));
  for (const std::string_view candidate : {name, family, std::string_view("*")}) {
    auto found = cpuProfiles.find(candidate);
    // Aliases may chain; a loop of them ends here rather than spinning.
    for (int hops = 0; found != cpuProfiles.end() && !found->second.sameAs.empty() && hops < 16; ++hops)
      found = cpuProfiles.find(found->second.sameAs);
    if (found != cpuProfiles.end() && found->second.sameAs.empty()) return found->second.threads;
  }
  return 0;
}

const std::vector<ConfigKey>& memoryConfigKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (std::size_t i = 0; i < table().size(); ++i) {
      const Entry& entry = table()[i];
      const Names& made = names()[i];
      out.push_back({entry.key, made.environment, entry.xmrigKey, entry.takes, entry.help, made.flag, made.negation,
                     entry.shortFlag, entry.text != TextKind::Switch && entry.text != TextKind::SwitchOrNumber, entry.use});
    }
    return out;
  }();
  return keys;
}

MemoryConfig parseMemoryConfig(std::string_view text, std::string_view origin) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& error) {  // parse_error, and out_of_range for a number past double (1E400)
    throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": not valid JSON (" + error.what() + ")");
  }
  if (!document.is_object())
    throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": expected a JSON object of options");
  MemoryConfig config;
  if (hasXmrigShape(document)) {
    readXmrig(document, config, origin);
    return config;
  }
  for (const auto& [key, value] : document.items()) {
    const Entry* entry = entryFor(key);
    if (entry == nullptr)
      throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": unknown key \"" + key + "\": expected one of " + knownKeys());
    entry->apply(config, value, {origin, key});
  }
  return config;
}

MemoryConfig loadMemoryConfig(const std::string& path) {
  // XMRig's config.json is a few KiB. Read no more than this: /dev/zero or a log named by mistake
  // would otherwise be read until memory runs out.
  constexpr std::size_t kLargestConfig = MiB;
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorCode::InvalidArgument, "cannot read the config file " + path);
  std::string text(kLargestConfig + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (text.size() > kLargestConfig)
    throw Error(ErrorCode::InvalidArgument, "the config file " + path + " is larger than " + formatBytes(kLargestConfig) +
                                                ": expected a JSON file of memory options");
  if (file.bad()) throw Error(ErrorCode::InvalidArgument, "cannot read the config file " + path);
  return parseMemoryConfig(text, path);
}

void applyEnvironment(MemoryConfig& config) {
  for (const auto& key : memoryConfigKeys()) {
    const char* raw = std::getenv(std::string(key.environment).c_str());
    if (raw != nullptr) applyOptionText(config, key.key, raw, key.environment);
  }
}

void applyOptionText(MemoryConfig& config, std::string_view key, const std::string& text, std::string_view origin) {
  const Entry* entry = entryFor(key);
  if (entry == nullptr) throw Error(ErrorCode::InvalidArgument, "unknown option \"" + std::string(key) + "\": expected one of " + knownKeys());
  const Where where{origin, key};
  entry->apply(config, fromText(*entry, text, where), where);
}

}  // namespace xmem
