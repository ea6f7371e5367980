#include <xmem/config.h>
#include <xmem/error.h>
#include <xmem/profiles.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace xmem {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(std::string_view origin, std::string_view key, const std::string& value, std::string_view expected) {
  throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": \"" + std::string(key) + "\" is " + value +
                                              ": expected " + std::string(expected));
}

bool toBool(const json& value, std::string_view origin, std::string_view key) {
  if (!value.is_boolean()) bad(origin, key, value.dump(), "true or false");
  return value.get<bool>();
}

std::uint64_t toCount(const json& value, std::string_view origin, std::string_view key, std::uint64_t max) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > max)
    bad(origin, key, value.dump(), "a whole number from 0 to " + std::to_string(max));
  return value.get<std::uint64_t>();
}

struct Entry {
  ConfigKey names;
  std::function<void(MemoryConfig&, const json&, std::string_view origin)> apply;
};

// The one table: config keys, environment variables, parsing.
const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {{"huge-pages", "XMEM_HUGE_PAGES", "true or false"},
       [](MemoryConfig& c, const json& v, std::string_view o) { c.hugePages = toBool(v, o, "huge-pages"); }},
      {{"huge-pages-jit", "XMEM_HUGE_PAGES_JIT", "true or false"},
       [](MemoryConfig& c, const json& v, std::string_view o) { c.hugePagesJit = toBool(v, o, "huge-pages-jit"); }},
      {{"1gb-pages", "XMEM_1GB_PAGES", "true or false"},
       [](MemoryConfig& c, const json& v, std::string_view o) { c.oneGbPages = toBool(v, o, "1gb-pages"); }},
      {{"memory-pool", "XMEM_MEMORY_POOL", "true, false, or a number of 2 MiB pages"},
       [](MemoryConfig& c, const json& v, std::string_view o) {
         if (v.is_boolean()) {
           c.memoryPool = v.get<bool>();
           c.memoryPoolPages = 0;
           return;
         }
         c.memoryPoolPages = toCount(v, o, "memory-pool", 1'000'000);
         c.memoryPool = c.memoryPoolPages != 0;
       }},
      {{"numa", "XMEM_NUMA", "true, false, or a list of node numbers"},
       [](MemoryConfig& c, const json& v, std::string_view o) {
         if (v.is_boolean()) {
           c.numa = v.get<bool>();
           c.numaNodes.clear();
           return;
         }
         if (!v.is_array() || v.empty()) bad(o, "numa", v.dump(), "true, false, or a non-empty list of node numbers");
         c.numa = true;
         c.numaNodes.clear();
         for (const auto& node : v) c.numaNodes.push_back(static_cast<std::uint32_t>(toCount(node, o, "numa", 1023)));
       }},
      {{"thp", "XMEM_THP", "true or false"},
       [](MemoryConfig& c, const json& v, std::string_view o) { c.transparentHugePages = toBool(v, o, "thp"); }},
      {{"lock", "XMEM_LOCK", "true or false"},
       [](MemoryConfig& c, const json& v, std::string_view o) { c.lock = toBool(v, o, "lock"); }},
      {{"prefault", "XMEM_PREFAULT", "true, false, or a number of threads"},
       [](MemoryConfig& c, const json& v, std::string_view o) {
         if (v.is_boolean()) {
           c.prefault = v.get<bool>();
           c.prefaultThreads = 0;
           return;
         }
         c.prefaultThreads = static_cast<unsigned>(toCount(v, o, "prefault", 4096));
         c.prefault = c.prefaultThreads != 0;
       }},
      {{"profile", "XMEM_PROFILE", "a profile name such as rx/0"},
       [](MemoryConfig& c, const json& v, std::string_view o) {
         if (!v.is_string() || findProfile(v.get<std::string>()) == nullptr)
           bad(o, "profile", v.dump(), "one of " + profileNames());
         c.profile = v.get<std::string>();
       }},
      {{"threads", "XMEM_THREADS", "a number of threads, 1 or more"},
       [](MemoryConfig& c, const json& v, std::string_view o) {
         c.threads = static_cast<unsigned>(toCount(v, o, "threads", 4096));
         if (c.threads == 0) bad(o, "threads", "0", "a number of threads from 1 to 4096");
       }},
  };
  return entries;
}

const Entry* entryFor(std::string_view key) {
  for (const auto& entry : table())
    if (entry.names.key == key) return &entry;
  return nullptr;
}

std::string knownKeys() {
  std::string keys;
  for (const auto& entry : table()) keys += (keys.empty() ? "" : ", ") + std::string(entry.names.key);
  return keys;
}

}  // namespace

const std::vector<ConfigKey>& memoryConfigKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& entry : table()) out.push_back(entry.names);
    return out;
  }();
  return keys;
}

MemoryConfig parseMemoryConfig(std::string_view text, std::string_view origin) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& error) {
    throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": not valid JSON (" + error.what() + ")");
  }
  if (!document.is_object())
    throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": expected a JSON object of options");
  MemoryConfig config;
  for (const auto& [key, value] : document.items()) {
    const Entry* entry = entryFor(key);
    if (entry == nullptr)
      throw Error(ErrorCode::InvalidArgument, std::string(origin) + ": unknown key \"" + key + "\": expected one of " + knownKeys());
    entry->apply(config, value, origin);
  }
  return config;
}

MemoryConfig loadMemoryConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(ErrorCode::InvalidArgument, "cannot read the config file " + path);
  std::stringstream text;
  text << file.rdbuf();
  return parseMemoryConfig(text.str(), path);
}

void applyEnvironment(MemoryConfig& config) {
  for (const auto& entry : table()) {
    const char* raw = std::getenv(std::string(entry.names.environment).c_str());
    if (raw == nullptr) continue;
    const std::string text = raw;
    // Environment values are text: 0/1/true/false, numbers, lists as "0,1", names as they are.
    json value;
    if (text == "1" || text == "true" || text == "yes" || text == "on") value = true;
    else if (text == "0" || text == "false" || text == "no" || text == "off") value = false;
    else if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) value = std::stoull(text);
    else if (!text.empty() && text.find_first_not_of("0123456789,") == std::string::npos) {
      value = json::array();
      std::stringstream items(text);
      for (std::string item; std::getline(items, item, ',');)
        if (!item.empty()) value.push_back(std::stoull(item));
    } else {
      value = text;
    }
    entry.apply(config, value, entry.names.environment);
  }
}

}  // namespace xmem
