#include "machine/os_error.h"

#include <new>
#include <string>

namespace xmem {

ErrorCode errorCodeOf(const os::Status& status) noexcept {
  switch (status.kind) {
    case os::Status::Kind::NoMemory: return ErrorCode::OutOfMemory;
    case os::Status::Kind::NoPermission: return ErrorCode::PermissionDenied;
    case os::Status::Kind::Unsupported: return ErrorCode::Unsupported;
    default: return ErrorCode::SystemError;
  }
}

Error osFailure(const os::Status& status, std::string_view what, ErrorContext context) noexcept {
  context.osError = status.code;
  try {
    std::string message(what);
    message += ": ";
    message += os::describe(status);
    return Error(errorCodeOf(status), std::move(message), context);
  } catch (...) {
    return Error::prepared(errorCodeOf(status), context);
  }
}

}  // namespace xmem
