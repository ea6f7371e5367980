# The live page and its history (src/server/page.*, history.*): a static library the HTTP server
# and the page's own test server link. The script and style sheet are plain files here, turned
# into C++ at build time (embed_asset.cmake), so the binary serves them with no file beside it.
find_package(fmt REQUIRED)

set(XMEM_PAGE_ASSET_DIR ${PROJECT_BINARY_DIR}/generated/server)
set(XMEM_PAGE_ASSETS "")
foreach(asset IN ITEMS page.js:pageScriptText page.css:pageStyleText)
  string(REPLACE ":" ";" parts ${asset})
  list(GET parts 0 file)
  list(GET parts 1 function)
  set(output ${XMEM_PAGE_ASSET_DIR}/${file}.cpp)
  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_SOURCE_DIR}/server/${file} -DOUTPUT=${output}
            -DNAME=${function} -P ${CMAKE_CURRENT_SOURCE_DIR}/server/embed_asset.cmake
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/server/${file} ${CMAKE_CURRENT_SOURCE_DIR}/server/embed_asset.cmake
    COMMENT "Embedding server/${file}")
  list(APPEND XMEM_PAGE_ASSETS ${output})
endforeach()

add_library(xmem_page STATIC server/history.cpp server/page.cpp ${XMEM_PAGE_ASSETS})
add_library(xmem::page ALIAS xmem_page)
target_include_directories(xmem_page PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>)
target_link_libraries(xmem_page PUBLIC xmem::xmem PRIVATE fmt::fmt nlohmann_json::nlohmann_json)
set_target_properties(xmem_page PROPERTIES POSITION_INDEPENDENT_CODE ON)
xmem_set_warnings(xmem_page)
