#pragma once

#include "os/os.h"

namespace xmem::os {

/// The one LinuxPlatform instance.
Platform& linuxPlatform() noexcept;

}  // namespace xmem::os
