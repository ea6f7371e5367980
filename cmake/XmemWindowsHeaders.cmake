# Header-only Debian packages for a Windows cross-build: an include root that holds only them
# (adding /usr/include itself would put Linux's C headers before mingw-w64's).
set(XMEM_HOST_HEADERS ${PROJECT_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${XMEM_HOST_HEADERS})
foreach(header IN ITEMS nlohmann CLI)
  if(EXISTS /usr/include/${header} AND NOT EXISTS ${XMEM_HOST_HEADERS}/${header})
    file(CREATE_LINK /usr/include/${header} ${XMEM_HOST_HEADERS}/${header} SYMBOLIC)
  endif()
endforeach()
if(NOT EXISTS ${XMEM_HOST_HEADERS}/nlohmann/json.hpp)
  message(FATAL_ERROR "nlohmann-json3-dev is needed (its headers, for the Windows build too)")
endif()
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${XMEM_HOST_HEADERS})
