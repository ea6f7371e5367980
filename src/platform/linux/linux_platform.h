#pragma once

#include "platform/platform.h"

namespace xmem::platform {

/// The one LinuxPlatform instance.
Platform& linuxPlatform() noexcept;

}  // namespace xmem::platform
