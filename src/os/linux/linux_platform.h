#pragma once

#include "os/posix/posix_platform.h"

#include <string>

namespace xmem::os {

/// The one LinuxPlatform instance (a PosixPlatform with what the Linux kernel adds).
Platform& linuxPlatform() noexcept;

/// describeErrno() with glibc's name for any code: "Cannot allocate memory (ENOMEM)".
std::string describeLinuxError(int code);
/// A page_answer for move_pages' per-page negative errno (or the node itself when >= 0).
int pageAnswerOf(int kernelAnswer) noexcept;

}  // namespace xmem::os
