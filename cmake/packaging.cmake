# Installing flocker and packaging it (included at the end of the top-level CMakeLists.txt).
#
#   cmake --install build --prefix /opt/flocker   bin/flocker-proxy, bin/flocker-decider,
#                                                 share/flocker/proto/flocker/v1/decider.proto,
#                                                 include/flocker/{sdk,v1}/*.h,
#                                                 lib/libflocker_{sdk,proto}.a,
#                                                 lib/cmake/flocker (find_package(flocker))
#   cd build && cpack -G DEB                      flocker_<version>_<arch>.deb (the binaries and
#                                                 the proto) and flocker-dev_... (the C++ SDK)
#
# Two install components: Runtime (binaries, proto) and Development (headers, static libraries,
# CMake package). See docs/install.md.
include(CMakePackageConfigHelpers)

set(FLOCKER_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/flocker)
set(FLOCKER_PROTO_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/flocker/proto)

install(EXPORT flockerTargets NAMESPACE flocker:: DESTINATION ${FLOCKER_CMAKE_INSTALL_DIR}
  COMPONENT Development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/flockerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/flockerConfig.cmake
  INSTALL_DESTINATION ${FLOCKER_CMAKE_INSTALL_DIR}
  PATH_VARS FLOCKER_PROTO_INSTALL_DIR)
# 0.x: a new minor version may change the SDK's API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/flockerConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/flockerConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/flockerConfigVersion.cmake
  DESTINATION ${FLOCKER_CMAKE_INSTALL_DIR} COMPONENT Development)

# `cmake --install --strip` and cpack (CPACK_STRIP_FILES) strip the binaries, and CMake leaves
# static libraries alone: their debug info goes here (as Debian's dh_strip does): 48 MB -> 4 MB.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    foreach(lib \"$<TARGET_FILE_NAME:flocker_sdk>\" \"$<TARGET_FILE_NAME:flocker_proto>\")
      execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug --enable-deterministic-archives
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/\${lib}\"
        COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()" COMPONENT Development)

# --- CPack: Debian packages (cpack -G DEB in the build directory)
set(CPACK_PACKAGE_NAME flocker)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "flocker maintainers <maintainers@users.noreply.b-seed-24f933d0.example>")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the binaries; RelWithDebInfo would ship their debug info
set(CPACK_COMPONENTS_ALL Runtime Development)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps over the binaries

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME flocker)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
# Descriptions: the first line is the synopsis (no CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would
# put it before both).
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "Many Docker engines that look like one\n\
flocker-proxy serves the Docker Engine API for a flock of engines; a decider\n\
(gRPC, /usr/share/flocker/proto/flocker/v1/decider.proto) places what is created.\n\
flocker-decider is the reference decider (round-robin).")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME flocker-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# Static libraries only: what a program linking flocker::sdk needs is the -dev packages of the
# libraries flockerConfig.cmake finds.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "libgrpc++-dev, libprotobuf-dev, libspdlog-dev")
set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS Runtime)  # -> Depends: flocker (= version)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION "C++ SDK for writing flocker deciders\n\
Headers, static libraries (libflocker_sdk.a, libflocker_proto.a) and the CMake\n\
package: find_package(flocker CONFIG REQUIRED), then link flocker::sdk.")

include(CPack)
