# arm64 Linux, cross-built with Debian's aarch64 toolchain (g++-aarch64-linux-gnu) against its
# multiarch libraries (libhwloc-dev:arm64, libgtest-dev:arm64), run under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The programs run with the multiarch loader and libraries (libc6:arm64, libstdc++6:arm64), not
# with `-L /usr/aarch64-linux-gnu`: that loader is the cross toolchain's, a different glibc build
# from the multiarch libc.so.6 it then finds, and threaded programs hang at their first thread.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
