include(CMakePackageConfigHelpers)

set(XMEM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xmem)

install(TARGETS xmem EXPORT xmemTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/xmem DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The monitoring server, for programs that serve their own memory (find_package(xmem COMPONENTS server)).
if(TARGET xmem_server)
  set_target_properties(xmem_server PROPERTIES EXPORT_NAME server)
  set_target_properties(xmem_page PROPERTIES EXPORT_NAME page)
  install(TARGETS xmem_server xmem_page EXPORT xmemServerTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT xmemServerTargets NAMESPACE xmem:: DESTINATION ${XMEM_CMAKE_DIR})
endif()
install(EXPORT xmemTargets NAMESPACE xmem:: DESTINATION ${XMEM_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xmemConfig.cmake.in
  ${PROJECT_BINARY_DIR}/xmemConfig.cmake INSTALL_DESTINATION ${XMEM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xmemConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xmemConfig.cmake ${PROJECT_BINARY_DIR}/xmemConfigVersion.cmake
  DESTINATION ${XMEM_CMAKE_DIR})

# The .pc file finds the prefix from its own place, so an installed tree can be moved.
file(RELATIVE_PATH XMEM_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" XMEM_PC_TO_PREFIX "${XMEM_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/xmem.pc.in ${PROJECT_BINARY_DIR}/xmem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xmem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
