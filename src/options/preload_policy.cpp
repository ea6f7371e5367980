#include <xmem/preload_policy.h>

#include <charconv>
#include <optional>
#include <string_view>

namespace xmem {
namespace {

std::vector<std::string_view> splitList(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    items.push_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return items;
}

std::optional<std::uint32_t> parseNumber(std::string_view text) {
  std::uint32_t value = 0;
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || rest != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Each reader sets its part of the policy from a variable's text and returns nullptr, or leaves
// the policy as it was and returns what the variable takes.
using Reader = const char* (*)(PreloadPolicy&, std::string_view);

constexpr const char* kSize = "a size such as 2M, 64K or 1G";

const char* readSize(std::size_t& out, std::string_view text, std::string_view zeroWord) {
  if (!zeroWord.empty() && text == zeroWord) {
    out = 0;
    return nullptr;
  }
  const auto bytes = parseSize(text);
  if (!bytes) return kSize;
  out = *bytes;
  return nullptr;
}

const char* readPages(PreloadPolicy& policy, std::string_view text) {
  bool oneGb = false, twoMb = false, thp = false;
  if (text.empty()) return "a list of 1g, 2m and thp (e.g. 2m,thp), or none";
  if (text != "none") {
    for (auto item : splitList(text)) {
      if (item == "1g") oneGb = true;
      else if (item == "2m") twoMb = true;
      else if (item == "thp") thp = true;
      else return "a list of 1g, 2m and thp (e.g. 2m,thp), or none";
    }
  }
  policy.oneGbPages = oneGb;
  policy.hugePages = twoMb;
  policy.transparentHugePages = thp;
  return nullptr;
}

const char* readNode(PreloadPolicy& policy, std::string_view text) {
  if (text == "local") policy.nodeMode = PreloadPolicy::NodeMode::Local;
  else if (text == "interleave") policy.nodeMode = PreloadPolicy::NodeMode::Interleave;
  else if (text == "none") policy.nodeMode = PreloadPolicy::NodeMode::None;
  else if (auto node = parseNumber(text); node && *node < NodeSet::kMaxNodes) {
    policy.nodeMode = PreloadPolicy::NodeMode::Fixed;
    policy.node = *node;
  } else {
    return "local, interleave, none, or a node number";
  }
  return nullptr;
}

const char* readReport(PreloadPolicy& policy, std::string_view text) {
  bool atExit = false, onSignal = false;
  for (auto item : splitList(text)) {
    if (item == "exit") atExit = true;
    else if (item == "signal") onSignal = true;
    else return "a list of exit and signal";
  }
  policy.reportAtExit = atExit;
  policy.reportOnSignal = onSignal;
  return nullptr;
}

const char* readSignal(PreloadPolicy& policy, std::string_view text) {
  if (text == "USR1" || text == "SIGUSR1") policy.reportSignal = 10;
  else if (text == "USR2" || text == "SIGUSR2") policy.reportSignal = 12;
  else if (auto number = parseNumber(text); number && *number >= 1 && *number <= 64) policy.reportSignal = static_cast<int>(*number);
  else return "USR1, USR2 or a signal number from 1 to 64";
  return nullptr;
}

struct VariableReader {
  PreloadVariable variable;
  Reader read;
};

// The one list of the XMEM_PRELOAD_* variables: the library reads them, `xmem run` makes its flags
// from them and sets them, and the README's table is checked against them.
const std::vector<VariableReader>& variableTable() {
  static const std::vector<VariableReader> entries = {
      {{"XMEM_PRELOAD_THRESHOLD", "--threshold", "SIZE (e.g. 2M)", "requests of at least this size are served by xmem", "2M"},
       [](PreloadPolicy& p, std::string_view t) { return readSize(p.threshold, t, ""); }},
      {{"XMEM_PRELOAD_PAGES", "--pages", "a list of 1g, 2m, thp, or none",
        "page kinds allowed, largest first; none: 4 KiB pages", "1g,2m,thp"},
       readPages},
      {{"XMEM_PRELOAD_1GB_ABOVE", "--1gb-above", "SIZE", "1 GiB pages only for requests of at least this size", "1G"},
       [](PreloadPolicy& p, std::string_view t) { return readSize(p.oneGbAbove, t, ""); }},
      {{kPreloadNodeVariable, "--node", "local, interleave, none, or a node number",
        "local: the allocating thread's node, preferred; N: bound to node N; interleave: all nodes", "local"},
       readNode},
      {{"XMEM_PRELOAD_LOCK", "--lock", "0 or 1", "mlock each allocation, best effort", "0", "1"},
       [](PreloadPolicy& p, std::string_view t) -> const char* {
         if (t != "0" && t != "1") return "0 or 1";
         p.lock = t == "1";
         return nullptr;
       }},
      {{"XMEM_PRELOAD_PREFAULT_ABOVE", "--prefault-above", "SIZE or never",
        "fault requests of at least this size in at once with every core", "64M"},
       [](PreloadPolicy& p, std::string_view t) { return readSize(p.prefaultAbove, t, "never"); }},
      {{"XMEM_PRELOAD_POOL", "--pool", "SIZE or off",
        "requests of 2M to 64M come from a pool per node of this first size, reused when freed", "8M"},
       [](PreloadPolicy& p, std::string_view t) { return readSize(p.poolCapacity, t, "off"); }},
      {{"XMEM_PRELOAD_REPORT", "--report", "a list of exit, signal",
        "print what each large allocation got, and where it is now, at exit and/or on a signal", "none"},
       readReport},
      {{"XMEM_PRELOAD_REPORT_SIGNAL", "--report-signal", "USR1, USR2 or a number", "the signal for the report", "USR2"},
       readSignal},
      {{"XMEM_PRELOAD_REPORT_FILE", "--report-file", "PATH", "append the report there", "standard error"},
       [](PreloadPolicy& p, std::string_view t) -> const char* {
         p.reportFile = std::string(t);
         return nullptr;
       }},
  };
  return entries;
}

}  // namespace

const std::vector<PreloadVariable>& preloadVariables() {
  static const std::vector<PreloadVariable> variables = [] {
    std::vector<PreloadVariable> out;
    for (const auto& entry : variableTable()) out.push_back(entry.variable);
    return out;
  }();
  return variables;
}

PreloadPolicyParse parsePreloadPolicy(const std::function<const char*(const char*)>& lookup) {
  PreloadPolicyParse parsed;
  for (const auto& entry : variableTable()) {
    const char* value = lookup(entry.variable.name);
    if (value == nullptr) continue;
    if (const char* expected = entry.read(parsed.policy, value))
      parsed.errors.push_back(std::string(entry.variable.name) + "='" + value + "': expected " + expected);
  }
  return parsed;
}

}  // namespace xmem
