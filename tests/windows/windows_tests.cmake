# The tests of a Windows build (cross-built with mingw-w64, run under Wine through ctest's
# emulator): the Windows platform over the fake WinApi, as on Linux, and over the real Win32 calls.
# GoogleTest comes from libgtest-dev's sources (/usr/src/googletest), built with this toolchain.
set(XMEM_GOOGLETEST_SOURCE /usr/src/googletest CACHE PATH "GoogleTest's sources (Debian's libgtest-dev)")
if(NOT EXISTS ${XMEM_GOOGLETEST_SOURCE}/CMakeLists.txt)
  message(FATAL_ERROR "GoogleTest's sources are not at ${XMEM_GOOGLETEST_SOURCE}: install libgtest-dev")
endif()
set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
add_subdirectory(${XMEM_GOOGLETEST_SOURCE} ${CMAKE_CURRENT_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
include(GoogleTest)

add_executable(xmem_windows_tests windows/windows_platform_test.cpp windows/fake_win_api.cpp
  windows/win32_platform_test.cpp)
target_include_directories(xmem_windows_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(xmem_windows_tests PRIVATE xmem::xmem gmock gtest_main)
xmem_set_warnings(xmem_windows_tests)
# Listing the tests starts Wine once; a fresh Wine prefix takes a while to create.
gtest_discover_tests(xmem_windows_tests PROPERTIES LABELS windows ENVIRONMENT WINEDEBUG=-all DISCOVERY_TIMEOUT 240
  DISCOVERY_MODE PRE_TEST)

# The xmem command on Windows, under Wine: what applies there works, what does not says why.
if(TARGET xmem_tool)
  function(xmem_windows_cli_case name expected_exit pattern)
    add_test(NAME windows.cli.${name} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/run_xmem.sh $<TARGET_FILE:xmem_tool>
             ${expected_exit} ${pattern} ${ARGN})
    set_tests_properties(windows.cli.${name} PROPERTIES LABELS windows ENVIRONMENT "XMEM_RUNNER=wine;WINEDEBUG=-all")
  endfunction()
  xmem_windows_cli_case(info 0 "Lock pages in memory\" for .*: not assigned" info)
  xmem_windows_cli_case(info_guidance 0 "secpol.msc" info)
  xmem_windows_cli_case(info_json 0 "\"large_page_right\"" info --json)
  xmem_windows_cli_case(plan 0 "dataset \\+ cache 2336 MiB" plan --profile rx/0 --threads 16)
  xmem_windows_cli_case(plan_without_pool 0 "2 MiB pages +need 1184 .taken from free memory" plan --profile rx/0 --threads 16)
  xmem_windows_cli_case(plan_right 0 "Lock pages in memory.*not assigned" plan --profile rx/0)
  xmem_windows_cli_case(alloc 0 "node 0: 256 MiB .* 4 KiB pages. scratchpads 1 x 2 MiB" alloc --profile rx/light --threads 1)
  xmem_windows_cli_case(alloc_bad_profile 2 "unknown profile 'rx/9'" alloc --profile rx/9)
  xmem_windows_cli_case(bench_synthetic 0 "\"dependent_read_ns\"" bench --quick --buffer 64M --no-randomx --json)
  xmem_windows_cli_case(reserve 2 "Windows keeps no pool of large pages" reserve --count 1)
  xmem_windows_cli_case(release 2 "nothing to reserve or release" release)
  xmem_windows_cli_case(run 2 "not available on Windows: it works through LD_PRELOAD" run -- cmd /c exit)
  xmem_windows_cli_case(serve 2 "not available on Windows" serve)
endif()
