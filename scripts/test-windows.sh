#!/usr/bin/env bash
# Windows x86-64: cross-builds the library and its Windows tests with Debian's mingw-w64 (posix
# threads) and runs them under Wine through ctest (the `windows` presets). The Windows platform's
# logic runs twice: over a fake of the Win32 calls (every privilege state, error code, node and
# processor group) and over the real calls, where Wine's refusals prove the fallbacks.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "=== windows: configure, cross-build, test under Wine"
export WINEDEBUG=-all
# A prefix of our own (created on first use, ~15 s): a user's ~/.wine is left alone.
export WINEPREFIX="${WINEPREFIX:-$PWD/build/windows/wine-prefix}"
cmake --preset windows >/dev/null
# One wineserver for the whole run: one that exits as a test ends can refuse the next test ("wine
# client error: recvmsg: Connection reset by peer"). Then the prefix, made once (in the build folder
# the configure made) before tests start Wine two at a time; Wine's own background programs start
# there with their output on /dev/null, so no test's output pipe is held open by them.
mkdir -p "$WINEPREFIX"
wineserver --persistent
trap 'wineserver --kill' EXIT
wine cmd /c exit >/dev/null 2>&1 </dev/null || true
cmake --build --preset windows
ctest --preset windows
