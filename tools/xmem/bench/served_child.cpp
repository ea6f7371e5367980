#include "served_child.h"

#include <xmem/error.h>

#include <fmt/format.h>

#include <fcntl.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <chrono>
#include <thread>

extern char** environ;

namespace xmem::bench {

ServedChild::ServedChild(const std::vector<std::string>& argv, const std::vector<std::string>& environment) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    if (text.starts_with("LD_PRELOAD=") || text.starts_with("GLIBC_TUNABLES=")) continue;
    env.emplace_back(text);
  }
  env.insert(env.end(), environment.begin(), environment.end());
  std::vector<char*> args, envp;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  for (const auto& word : env) envp.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);

  int toChild[2], fromChild[2];
  if (::pipe2(toChild, O_CLOEXEC) != 0) throw Error(ErrorCode::SystemError, std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(fromChild, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(toChild[0]);
    ::close(toChild[1]);
    throw Error(ErrorCode::SystemError, std::string("pipe: ") + std::strerror(error));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the bench: a bench killed (SIGKILL) must not leave a child holding huge pages that
    // `xmem release` is to put back. The check after covers a parent gone before the prctl.
#if defined(__linux__)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (::getppid() != parent) ::_exit(127);
    ::dup2(toChild[0], STDIN_FILENO);
    ::dup2(fromChild[1], STDOUT_FILENO);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  const int forkError = errno;
  ::close(toChild[0]);
  ::close(fromChild[1]);
  input_ = toChild[1];
  output_ = fromChild[0];
  if (pid_ < 0) {
    ::close(input_);
    ::close(output_);
    input_ = output_ = -1;
    throw Error(ErrorCode::SystemError, std::string("fork: ") + std::strerror(forkError));
  }
}

ServedChild::~ServedChild() {
  if (pid_ <= 0) return;
  if (input_ >= 0) ::close(input_);
  input_ = -1;
  // A served child ends at the end of its input; one busy hashing ends within its slice.
  for (int waited = 0; waited < 100; ++waited) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (output_ >= 0) ::close(output_);
}

bool ServedChild::send(std::string_view line) {
  if (input_ < 0) return false;
  std::string text(line);
  text += '\n';
  // A child that is gone would raise SIGPIPE: ignore it for this write and see EPIPE instead.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(input_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::sigaction(SIGPIPE, &previous, nullptr);
  return written == text.size();
}

std::optional<std::string> ServedChild::readJsonLine() {
  for (;;) {
    if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      if (line.starts_with('{')) return line;
      why_ += line + "\n";
      continue;
    }
    char buffer[4096];
    const auto n = ::read(output_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!pending_.empty()) why_ += pending_ + "\n";
      pending_.clear();
      return std::nullopt;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string ServedChild::finish() {
  if (pid_ <= 0) return why_;
  if (input_ >= 0) ::close(input_);
  input_ = -1;
  while (readJsonLine()) {
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string what = WIFEXITED(status) ? fmt::format("exited {}", WEXITSTATUS(status))
                                              : fmt::format("was killed by signal {}", WTERMSIG(status));
  why_ = what + (why_.empty() ? "" : ": " + why_);
  while (!why_.empty() && why_.back() == '\n') why_.pop_back();
  return why_;
}

}  // namespace xmem::bench
