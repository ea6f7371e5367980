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
