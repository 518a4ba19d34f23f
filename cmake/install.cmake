# SPDX-License-Identifier: MPL-2.0
# What `cmake --install` puts in a prefix: libzmesh.so and libzmesh.a (each the whole library:
# protocol, discovery, node and its streams), the public headers under include/zmesh, the tools, a CMake
# package (find_package(zmesh CONFIG): zmesh::zmesh shared, zmesh::zmesh_static) and zmesh.pc.
# Each rule names its component, which cmake/packaging.cmake makes one Debian package of:
# runtime (the shared library), development (headers, archive, CMake package, zmesh.pc),
# tools (the programs). A plain `cmake --install` installs all three.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ZMESH_OBJECTS $<TARGET_OBJECTS:zmesh_protocol> $<TARGET_OBJECTS:zmesh_discovery>
                  $<TARGET_OBJECTS:zmesh_streams> $<TARGET_OBJECTS:zmesh>)
# The internal libraries stay three, for the layout; the installed ones are one each.
add_library(zmesh_shared SHARED ${ZMESH_OBJECTS})
add_library(zmesh_archive STATIC ${ZMESH_OBJECTS})
set_target_properties(zmesh_shared PROPERTIES OUTPUT_NAME zmesh EXPORT_NAME zmesh
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
# Its own directory: the internal static `zmesh` is also named libzmesh.a.
set_target_properties(zmesh_archive PROPERTIES OUTPUT_NAME zmesh EXPORT_NAME zmesh_static
                      ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/install-archive)
# A consumer gets what the public headers need and nothing more: their directory, msgpack-cxx's
# headers (found by zmeshConfig.cmake, used without Boost) and threads. libzmq, libsodium and
# SQLite are the library's own business: libzmesh.so links them, and zmesh_static names them for
# the linker, so neither cppzmq nor any other package is looked for by find_package(zmesh).
foreach(lib zmesh_shared zmesh_archive)
  target_include_directories(${lib} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_definitions(${lib} INTERFACE MSGPACK_NO_BOOST)
  target_link_libraries(${lib} INTERFACE Threads::Threads)
endforeach()
target_link_libraries(zmesh_shared PRIVATE libzmq PkgConfig::SODIUM SQLite::SQLite3)
target_link_libraries(zmesh_archive INTERFACE zmq sodium sqlite3)   # by name: consumers need no package

# The public headers, include/zmesh, and no other: internal headers stay beside their sources.
install(DIRECTORY include/zmesh DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

# libzmesh.so.0 (and the file it names) is what programs load; libzmesh.so, the name the
# linker looks for, is only needed to build against it.
install(TARGETS zmesh_shared zmesh_archive EXPORT zmeshTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(TARGETS zmesh-node zmesh-monitor zmesh-tool zmesh-bench
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
install(EXPORT zmeshTargets NAMESPACE zmesh:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zmesh
        COMPONENT development)

# Where msgpack.hpp was found here: zmeshConfig.cmake looks there first.
get_target_property(ZMESH_MSGPACK_INCLUDE_DIRS ${ZMESH_MSGPACK} INTERFACE_INCLUDE_DIRECTORIES)
configure_package_config_file(cmake/zmeshConfig.cmake.in ${CMAKE_BINARY_DIR}/zmeshConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zmesh)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/zmeshConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/zmeshConfig.cmake ${CMAKE_BINARY_DIR}/zmeshConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zmesh COMPONENT development)

# zmesh.pc finds the prefix from its own place (lib/pkgconfig or lib/<multiarch>/pkgconfig).
file(RELATIVE_PATH ZMESH_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/zmesh.pc.in ${CMAKE_BINARY_DIR}/zmesh.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/zmesh.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT development)
