// A child process spoken to line by line: its standard input and output are pipes. `xmem bench`
// keeps one per memory source of librandomx (xmem-randomx --serve), so every source holds its
// dataset at once and they can hash in turns.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem::bench {

class ServedChild {
 public:
  /// Starts argv[0] with this process's environment, less its LD_PRELOAD and GLIBC_TUNABLES, plus
  /// `environment` (NAME=VALUE). Throws Error when it cannot start.
  ServedChild(const std::vector<std::string>& argv, const std::vector<std::string>& environment);
  /// Closes its input (a served child then ends by itself), kills it if it does not, and reaps it.
  ~ServedChild();
  ServedChild(const ServedChild&) = delete;
  ServedChild& operator=(const ServedChild&) = delete;

  /// Sends one line (a newline is added); false when the child is gone.
  bool send(std::string_view line);
  /// The next line it prints that begins with '{' (its JSON); other lines are kept for why().
  /// nullopt when its output ended.
  std::optional<std::string> readJsonLine();
  /// Closes its input and waits for it to end; empty when it exited 0, else what happened.
  std::string finish();
  /// What it printed besides JSON, and how it ended once finish() said so.
  const std::string& why() const { return why_; }

 private:
  pid_t pid_ = -1;
  int input_ = -1;   ///< its standard input, written here
  int output_ = -1;  ///< its standard output, read here
  std::string pending_;
  std::string why_;
};

}  // namespace xmem::bench
