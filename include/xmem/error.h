// Errors of the public layer: a typed exception that carries what was asked and why it failed,
// and Result<T> for the non-throwing try_ variants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace xmem {

enum class ErrorCode : std::uint8_t {
  InvalidArgument,   ///< the caller's value is out of range (named in the message)
  OutOfMemory,       ///< the system has no memory (or no address space) for the request
  PermissionDenied,  ///< a privilege or a limit stands in the way (named in the message)
  Unsupported,       ///< this kernel, CPU or build cannot do it
  SystemError,       ///< any other failure of an OS call (errno in the error)
};

std::string_view toString(ErrorCode code) noexcept;

/// What was asked when an operation failed; fields that do not apply stay empty.
struct ErrorContext {
  std::optional<std::size_t> size = std::nullopt;
  std::optional<std::uint32_t> node = std::nullopt;
  std::optional<std::size_t> pageSize = std::nullopt;
  int osError = 0;  ///< errno (or the Windows error code); 0 when the cause is not an OS call
  std::optional<std::uint64_t> pages = std::nullopt;  ///< a page count it is about (the total a reservation was to reach)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, ErrorContext context = {});

  /// Out of memory, for when not even an error's message can be allocated: the message was made
  /// before memory ran short, and copying an Error allocates nothing. Lets the non-throwing
  /// try_ variants keep their promise when memory is short.
  static Error outOfMemory(ErrorContext context = {}) noexcept;
  /// An Error of `code` whose message was made in advance ("... (no memory left to describe
  /// it)"), for a failure met while memory is too short to say more.
  static Error prepared(ErrorCode code, ErrorContext context = {}) noexcept;

  ErrorCode code() const noexcept { return code_; }
  const ErrorContext& context() const noexcept { return context_; }

 private:
  Error(const Error& prepared, ErrorContext context) noexcept;

  ErrorCode code_;
  ErrorContext context_;
};

/// A value or the Error that prevented it. value() throws the error.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return std::holds_alternative<T>(state_); }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(state_);
  }
  T&& value() && {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(std::move(state_));
  }
  const Error& error() const {
    if (ok()) throw std::logic_error("xmem::Result::error() called on a successful result");
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

}  // namespace xmem
