#pragma once

#include "os/os.h"

namespace xmem::os {

/// The one LinuxPlatform instance.
Platform& linuxPlatform() noexcept;

/// The Status of a failure with errno `error` (0 is success).
Status errnoStatus(int error) noexcept;
/// A page_answer for move_pages' per-page negative errno (or the node itself when >= 0).
int pageAnswerOf(int kernelAnswer) noexcept;

}  // namespace xmem::os
