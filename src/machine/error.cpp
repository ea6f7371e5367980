#include <xmem/error.h>

#include <string>
#include <utility>

namespace xmem {

std::string_view toString(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::PermissionDenied: return "permission denied";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::SystemError: return "system error";
  }
  return "?";
}

Error::Error(ErrorCode code, std::string message, ErrorContext context)
    : std::runtime_error(std::move(message)), code_(code), context_(context) {}

Error::Error(const Error& prepared, ErrorContext context) noexcept
    : std::runtime_error(prepared), code_(prepared.code_), context_(context) {}

namespace {
const Error& preparedOutOfMemory() {
  static const Error error(ErrorCode::OutOfMemory, "out of memory (too little even for this error's own message)");
  return error;
}
// Made while the library loads, not when memory is already short.
[[maybe_unused]] const Error& outOfMemoryAtLoad = preparedOutOfMemory();
}  // namespace

Error Error::outOfMemory(ErrorContext context) noexcept { return Error(preparedOutOfMemory(), context); }

namespace {
const Error& preparedError(ErrorCode code) {
  static const Error errors[] = {
      Error(ErrorCode::InvalidArgument, "invalid argument (no memory left to describe it)"),
      preparedOutOfMemory(),
      Error(ErrorCode::PermissionDenied, "permission denied (no memory left to describe it)"),
      Error(ErrorCode::Unsupported, "unsupported (no memory left to describe it)"),
      Error(ErrorCode::SystemError, "system error (no memory left to describe it)"),
  };
  return errors[static_cast<std::size_t>(code)];
}
// Made while the library loads, not when memory is already short.
[[maybe_unused]] const Error& preparedAtLoad = preparedError(ErrorCode::SystemError);
}  // namespace

Error Error::prepared(ErrorCode code, ErrorContext context) noexcept { return Error(preparedError(code), context); }

}  // namespace xmem
