// The one step from the OS layer's vocabulary (os::Status) to the public one (Error): a Status's
// kind decides the ErrorCode, its OS code goes into the context for callers that want it.
#pragma once

#include <xmem/error.h>

#include "os/os.h"

#include <string_view>

namespace xmem {

ErrorCode errorCodeOf(const os::Status& status) noexcept;

/// "<what>: <the OS's message>". Should memory run out while the message is made, an Error of
/// the same code with a message made in advance: a failure path must not fail for a string.
Error osFailure(const os::Status& status, std::string_view what, ErrorContext context = {}) noexcept;

}  // namespace xmem
