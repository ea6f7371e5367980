#include <xmem/preload_policy.h>

#include <charconv>
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

}  // namespace

const std::vector<PreloadVariable>& preloadVariables() {
  static const std::vector<PreloadVariable> variables = {
      {"XMEM_PRELOAD_THRESHOLD", "SIZE (e.g. 2M)", "requests of at least this size are served by xmem (default 2M)"},
      {"XMEM_PRELOAD_PAGES", "LIST of 1g, 2m, thp, or none",
       "page kinds allowed, largest first; none: 4 KiB pages (default 1g,2m,thp)"},
      {"XMEM_PRELOAD_1GB_ABOVE", "SIZE", "1 GiB pages only for requests of at least this size (default 1G)"},
      {"XMEM_PRELOAD_NODE", "local, interleave, none, or a node number",
       "local: the allocating thread's node, preferred; N: bound to node N; interleave: all nodes (default local)"},
      {"XMEM_PRELOAD_LOCK", "0 or 1", "mlock each allocation, best effort (default 0)"},
      {"XMEM_PRELOAD_PREFAULT_ABOVE", "SIZE or never",
       "fault requests of at least this size in at once with every core (default 64M)"},
      {"XMEM_PRELOAD_POOL", "SIZE or off",
       "requests of 2M to 64M come from a pool per node of this first size, reused when freed (default 8M)"},
      {"XMEM_PRELOAD_REPORT", "LIST of exit, signal", "print what each large allocation got at exit and/or on a signal"},
      {"XMEM_PRELOAD_REPORT_SIGNAL", "USR1, USR2 or a number", "the signal for the report (default USR2)"},
      {"XMEM_PRELOAD_REPORT_FILE", "PATH", "append the report there instead of standard error"},
  };
  return variables;
}

PreloadPolicyParse parsePreloadPolicy(const std::function<const char*(const char*)>& lookup) {
  PreloadPolicyParse parsed;
  auto& policy = parsed.policy;
  auto bad = [&](const char* name, std::string_view value, const std::string& expected) {
    parsed.errors.push_back(std::string(name) + "='" + std::string(value) + "': expected " + expected);
  };
  auto size = [&](const char* name, std::size_t& out) {
    const char* value = lookup(name);
    if (value == nullptr) return;
    if (auto bytes = parseSize(value)) out = *bytes;
    else bad(name, value, "a size such as 2M, 64K or 1G");
  };
  size("XMEM_PRELOAD_THRESHOLD", policy.threshold);
  size("XMEM_PRELOAD_1GB_ABOVE", policy.oneGbAbove);
  if (const char* value = lookup("XMEM_PRELOAD_PAGES")) {
    bool oneGb = false, twoMb = false, thp = false, ok = true;
    const std::string_view text = value;
    if (text != "none") {
      for (auto item : splitList(text)) {
        if (item == "1g") oneGb = true;
        else if (item == "2m") twoMb = true;
        else if (item == "thp") thp = true;
        else ok = false;
      }
    }
    if (ok && !text.empty()) {
      policy.oneGbPages = oneGb;
      policy.hugePages = twoMb;
      policy.transparentHugePages = thp;
    } else {
      bad("XMEM_PRELOAD_PAGES", text, "a list of 1g, 2m and thp (e.g. 2m,thp), or none");
    }
  }
  if (const char* value = lookup("XMEM_PRELOAD_NODE")) {
    const std::string_view text = value;
    if (text == "local") policy.nodeMode = PreloadPolicy::NodeMode::Local;
    else if (text == "interleave") policy.nodeMode = PreloadPolicy::NodeMode::Interleave;
    else if (text == "none") policy.nodeMode = PreloadPolicy::NodeMode::None;
    else if (auto node = parseNumber(text); node && *node < NodeSet::kMaxNodes) {
      policy.nodeMode = PreloadPolicy::NodeMode::Fixed;
      policy.node = *node;
    } else {
      bad("XMEM_PRELOAD_NODE", text, "local, interleave, none, or a node number");
    }
  }
  if (const char* value = lookup("XMEM_PRELOAD_LOCK")) {
    const std::string_view text = value;
    if (text == "0" || text == "1") policy.lock = text == "1";
    else bad("XMEM_PRELOAD_LOCK", text, "0 or 1");
  }
  if (const char* value = lookup("XMEM_PRELOAD_PREFAULT_ABOVE"); value != nullptr && std::string_view(value) == "never")
    policy.prefaultAbove = 0;
  else
    size("XMEM_PRELOAD_PREFAULT_ABOVE", policy.prefaultAbove);
  if (const char* value = lookup("XMEM_PRELOAD_POOL"); value != nullptr && std::string_view(value) == "off")
    policy.poolCapacity = 0;
  else
    size("XMEM_PRELOAD_POOL", policy.poolCapacity);
  if (const char* value = lookup("XMEM_PRELOAD_REPORT")) {
    bool ok = true;
    for (auto item : splitList(value)) {
      if (item == "exit") policy.reportAtExit = true;
      else if (item == "signal") policy.reportOnSignal = true;
      else ok = false;
    }
    if (!ok) {
      policy.reportAtExit = policy.reportOnSignal = false;
      bad("XMEM_PRELOAD_REPORT", value, "a list of exit and signal");
    }
  }
  if (const char* value = lookup("XMEM_PRELOAD_REPORT_SIGNAL")) {
    const std::string_view text = value;
    if (text == "USR1" || text == "SIGUSR1") policy.reportSignal = 10;
    else if (text == "USR2" || text == "SIGUSR2") policy.reportSignal = 12;
    else if (auto number = parseNumber(text); number && *number >= 1 && *number <= 64) policy.reportSignal = static_cast<int>(*number);
    else bad("XMEM_PRELOAD_REPORT_SIGNAL", text, "USR1, USR2 or a signal number from 1 to 64");
  }
  if (const char* value = lookup("XMEM_PRELOAD_REPORT_FILE")) policy.reportFile = value;
  return parsed;
}

}  // namespace xmem
