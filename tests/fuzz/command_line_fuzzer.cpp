// `xmem ARGS...` as a user may type them: every command's options read and checked. Only `info`
// and `plan` then do their work (they change nothing and end at once); the others stop after their
// checks (reserve would change the machine's page counts, run would start programs, serve listen).
#include "command_line.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace {
// What the commands print is not the point here: it goes nowhere.
class Discard : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize count) override { return count; }
};
Discard discard;

// A word that names a device, a FIFO or a directory would make `--config` wait on it (a terminal,
// a pipe) rather than test the parser: such inputs are skipped.
bool namesSomethingButAFile(const std::string& word) {
  for (std::string_view path : {std::string_view(word), std::string_view(word).substr(word.find('=') + 1)}) {
    struct stat facts {};
    if (!path.empty() && ::stat(std::string(path).c_str(), &facts) == 0 && !S_ISREG(facts.st_mode)) return true;
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::cout.rdbuf(&discard);
  std::cerr.rdbuf(&discard);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDOUT_FILENO);  // fmt::print(stdout, ...) too; stderr keeps the sanitizers' reports
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  std::vector<std::string> words{"xmem"};
  while (input.remaining_bytes() > 0 && words.size() < 24) {
    words.push_back(input.ConsumeRandomLengthString(48));
    if (namesSomethingButAFile(words.back())) return 0;
  }
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  argv.push_back(nullptr);
  (void)xmem::cli::runCommandLine(static_cast<int>(words.size()), argv.data(),
                                  [](std::string_view command) { return command == "info" || command == "plan"; });
  return 0;
}
