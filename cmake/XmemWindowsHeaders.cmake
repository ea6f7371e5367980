# Header-only Debian packages for a Windows cross-build: an include root that holds only them
# (adding /usr/include itself would put Linux's C headers before mingw-w64's).
set(XMEM_HOST_HEADERS ${PROJECT_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${XMEM_HOST_HEADERS})
foreach(header IN ITEMS nlohmann CLI fmt)
  if(EXISTS /usr/include/${header} AND NOT EXISTS ${XMEM_HOST_HEADERS}/${header})
    file(CREATE_LINK /usr/include/${header} ${XMEM_HOST_HEADERS}/${header} SYMBOLIC)
  endif()
endforeach()
if(NOT EXISTS ${XMEM_HOST_HEADERS}/nlohmann/json.hpp)
  message(FATAL_ERROR "nlohmann-json3-dev is needed (its headers, for the Windows build too)")
endif()
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED GLOBAL)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${XMEM_HOST_HEADERS})
# The command's libraries: CLI11 is header-only; fmt is used header-only (Debian's libfmt is for Linux).
add_library(CLI11::CLI11 INTERFACE IMPORTED GLOBAL)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${XMEM_HOST_HEADERS})
add_library(fmt::fmt INTERFACE IMPORTED GLOBAL)
set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${XMEM_HOST_HEADERS}
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
