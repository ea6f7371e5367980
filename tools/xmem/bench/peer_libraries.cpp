#include "peer_libraries.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace xmem::bench {
namespace {

/// The ELF identification that must match for the linker to load a file: class and byte order
/// (e_ident[4], [5]) and the machine (e_machine, bytes 18 and 19).
std::string elfKind(const std::string& path) {
  std::array<char, 20> header{};
  std::ifstream file(path, std::ios::binary);
  if (!file.read(header.data(), header.size()) || std::string_view(header.data(), 4) != "\x7f" "ELF") return {};
  return {header[4], header[5], header[18], header[19]};
}

std::string run(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command, "r"), ::pclose);
  std::string output;
  if (!pipe) return output;
  std::array<char, 4096> chunk{};
  for (std::size_t got; (got = std::fread(chunk.data(), 1, chunk.size(), pipe.get())) != 0;) output.append(chunk.data(), got);
  return output;
}

std::vector<std::string> split(std::string_view list, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream words{std::string(list)};
  while (std::getline(words, part, separator))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

}  // namespace

std::vector<LinkerCacheEntry> parseLinkerCache(std::string_view listing) {
  std::vector<LinkerCacheEntry> entries;
  std::istringstream lines{std::string(listing)};
  for (std::string line; std::getline(lines, line);) {
    const auto arrow = line.find(" => ");
    const auto name = line.find_first_not_of(" \t");
    const auto nameEnd = line.find_first_of(" \t", name);
    if (arrow == std::string::npos || name == std::string::npos || nameEnd == std::string::npos || nameEnd > arrow) continue;
    entries.push_back({line.substr(name, nameEnd - name), line.substr(arrow + 4)});
  }
  return entries;
}

LibraryLookup lookupIn(std::vector<std::string> directories, std::vector<LinkerCacheEntry> cache,
                       std::function<bool(const std::string& path)> usable) {
  return [directories = std::move(directories), cache = std::move(cache), usable = std::move(usable)](const std::string& soname) {
    std::error_code error;
    for (const auto& directory : directories)
      if (const auto path = (std::filesystem::path(directory) / soname).string();
          std::filesystem::exists(path, error) && usable(path))
        return path;
    for (const auto& entry : cache)
      if (entry.soname == soname && usable(entry.path)) return entry.path;
    return std::string();
  };
}

LibraryLookup systemLibraryLookup() {
  const char* libraryPath = std::getenv("LD_LIBRARY_PATH");
  // ldconfig lives in sbin, which a user's PATH may lack.
  const auto listing = run("PATH=\"$PATH:/sbin:/usr/sbin\" ldconfig -p 2>/dev/null");
  const auto self = elfKind("/proc/self/exe");
  return lookupIn(split(libraryPath != nullptr ? libraryPath : "", ':'), parseLinkerCache(listing),
                  [self](const std::string& path) { return !self.empty() && elfKind(path) == self; });
}

}  // namespace xmem::bench
