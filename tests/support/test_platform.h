// Which platform a test program runs on (see platform_main.cpp).
#pragma once

namespace xmem::testing {

/// True when the run was started with --xmem-platform=posix: os::current() is the generic POSIX
/// platform, not this OS's own.
bool genericPosixInstalled() noexcept;

}  // namespace xmem::testing
