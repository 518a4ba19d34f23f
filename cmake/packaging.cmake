# SPDX-License-Identifier: MPL-2.0
# Debian packages from the install rules (cmake/install.cmake): `cpack -G DEB` in the build
# tree writes three, one per install component, installing under /usr:
#   libzmesh0     runtime      libzmesh.so.0: what programs linked against zmesh load
#   libzmesh-dev  development  headers, libzmesh.so, libzmesh.a, the CMake package, zmesh.pc
#   zmesh-tools   tools        zmesh, zmesh-node, zmesh-monitor, zmesh-bench
# The library package is named after its soname (Debian policy 8.1), so a future
# libzmesh1 can be installed beside it. docs/packaging.md says how to build and check them.
set(ZMESH_DEB_LIB libzmesh${PROJECT_VERSION_MAJOR})

# Debian wants the license in /usr/share/doc/PACKAGE/copyright. Only the packages carry it:
# a plain `cmake --install` leaves it out (EXCLUDE_FROM_ALL).
foreach(pair "runtime;${ZMESH_DEB_LIB}" "development;libzmesh-dev" "tools;zmesh-tools")
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
          RENAME copyright COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME zmesh)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(ZMESH_PACKAGE_CONTACT "zmesh maintainers" CACHE STRING
    "The Maintainer field of the Debian packages (Name <email>)")
set(CPACK_PACKAGE_CONTACT "${ZMESH_PACKAGE_CONTACT}")
set(CPACK_COMPONENTS_ALL runtime development tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
# /usr, not this tree's CMAKE_INSTALL_PREFIX: the loader, pkg-config and find_package look
# there without being told.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# Run-time dependencies come from the binaries themselves: dpkg-shlibdeps maps each shared
# library they load to the package and version that provides it (libzmq5, libsodium23,
# libsqlite3-0, libstdc++6, ...; for the monitor also cpp-httplib and Boost). So they stay
# right when the tools are linked shared, or built on another Debian release. The static
# tools need none.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libzmesh0's shlibs file (the only package with a shared library), so that packages built
# against it depend on it in turn, on this version or later.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

# Each description's first line is the package's summary; CPack indents the rest.

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${ZMESH_DEB_LIB})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "brokerless peer-to-peer messaging mesh on ZeroMQ (shared library)
Services find each other on their own (UDP beacons or seeds) and talk by events
(publish/subscribe), RPC and durable streams, with no broker. This package holds the
shared library.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libzmesh-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# Beyond the library itself: msgpack-cxx, whose headers zmesh's include; and libzmq,
# libsodium and SQLite's -dev packages, because zmesh.pc names their .pc files
# (Requires.private, which pkg-config reads even for a shared link) and zmesh::zmesh_static
# links them by name.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "${ZMESH_DEB_LIB} (= ${PROJECT_VERSION}-1), libmsgpack-cxx-dev, libzmq3-dev, libsodium-dev, libsqlite3-dev")
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION
    "brokerless peer-to-peer messaging mesh on ZeroMQ (development files)
Headers (<zmesh/zmesh.hpp>), the static library, the CMake package
(find_package(zmesh): zmesh::zmesh, zmesh::zmesh_static) and zmesh.pc for pkg-config.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME zmesh-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "brokerless peer-to-peer messaging mesh on ZeroMQ (command-line tools)
zmesh (pub, sub, call, reply, ls, check, keygen), zmesh-node, zmesh-monitor (a live view,
Prometheus metrics) and zmesh-bench (benchmarks against raw libzmq).")

include(CPack)
