# SPDX-License-Identifier: MPL-2.0
# The command-line programs (tools/) are linked fully static (a static PIE): libzmq,
# libsodium, Boost.Program_options, SQLite, libstdc++ and glibc from their archives, when the Debian
# -dev packages ship them (libzmq3-dev and libc6-dev pull in every one it needs).
#
# Why: a mesh is many small processes on one host. Each process that maps shared libraries
# pays the dynamic loader and their relocations at start and holds their touched pages;
# linked static, only the code it uses is there. Measured on a 32-node mesh (zmesh-bench
# discovery): all shared: idle RSS 11.2 MiB per node, CPU to converge 23 ms per node;
# static but for glibc and Kerberos (nine shared libraries): 9.6 MiB, 15-18 ms; no shared
# library at all: 7.6 MiB, 14 ms.
# Everything else (the tests, the examples, the installed libraries) links them shared: a
# service that embeds zmesh chooses its own linking.
#
# How: the internal libraries name their dependencies through the zmesh_zmq, zmesh_sodium,
# zmesh_program_options and zmesh_sqlite targets below. Each resolves, for the program being linked, to
# the archives when that program has the property ZMESH_STATIC_RUNTIME, else to the
# shared library — so the archives come after every user of their symbols on the link line.
# The linker warns that glibc's name lookups (getaddrinfo, getpwuid, ...) in a static
# program need glibc's NSS modules at run time: see the -static-pie comment below.
#
# Off by default under the sanitizers: their runtime intercepts libstdc++'s functions (new,
# __cxa_throw), which a program holding its own copy would call directly.
if(ZMESH_SANITIZE OR ZMESH_FUZZ)
  set(zmesh_static_default OFF)
else()
  set(zmesh_static_default ON)
endif()
option(ZMESH_STATIC_TOOLS "Link the tools fully static (libzmq, libsodium, libstdc++, glibc)"
       ${zmesh_static_default})

add_library(zmesh_static_runtime INTERFACE)
if(ZMESH_STATIC_TOOLS)
  set(zmesh_missing "")
  set(zmesh_archive_paths "")
  foreach(name zmq sodium bsd md boost_program_options sqlite3)
    find_library(ZMESH_STATIC_${name} NAMES lib${name}.a)
    if(ZMESH_STATIC_${name})
      list(APPEND zmesh_archive_paths ${ZMESH_STATIC_${name}})
    else()
      list(APPEND zmesh_missing lib${name}.a)
    endif()
  endforeach()
  # glibc's own (libc6-dev): the compiler driver adds it, and libstdc++'s, under -static-pie.
  find_library(ZMESH_STATIC_c NAMES libc.a)
  if(NOT ZMESH_STATIC_c)
    list(APPEND zmesh_missing libc.a)
  endif()
  # Kerberos has no archive in Debian: libzmq's GSSAPI entry points are answered by
  # tools/static/gssapi_unavailable.cpp instead (zmesh never uses GSSAPI), which needs
  # only the header (libkrb5-dev, which libzmq3-dev pulls in).
  include(CheckIncludeFileCXX)
  check_include_file_cxx(gssapi/gssapi.h ZMESH_HAVE_GSSAPI_H)
  if(NOT ZMESH_HAVE_GSSAPI_H)
    list(APPEND zmesh_missing gssapi/gssapi.h)
  endif()
  # Nor are its multicast transports (OpenPGM, NORM) linked in: zmesh speaks tcp:// only,
  # and tools/static/multicast_unavailable.cpp answers their entry points (-0.7 MB of code
  # each node maps). Their headers come with libzmq3-dev (libpgm-dev, libnorm-dev).
  find_path(ZMESH_PGM_INCLUDE pgm/pgm.h PATH_SUFFIXES pgm-5.3)
  find_path(ZMESH_NORM_INCLUDE normApi.h)
  if(NOT ZMESH_PGM_INCLUDE OR NOT ZMESH_NORM_INCLUDE)
    list(APPEND zmesh_missing pgm/pgm.h normApi.h)
  endif()
  if(zmesh_missing)
    message(STATUS "zmesh: tools linked shared (not found: ${zmesh_missing})")
    set(ZMESH_STATIC_TOOLS OFF)
  else()
    add_library(zmesh_unavailable_transports STATIC
                ${PROJECT_SOURCE_DIR}/tools/static/gssapi_unavailable.cpp
                ${PROJECT_SOURCE_DIR}/tools/static/multicast_unavailable.cpp)
    target_include_directories(zmesh_unavailable_transports PRIVATE
                               ${ZMESH_PGM_INCLUDE} ${ZMESH_NORM_INCLUDE})
    target_link_libraries(zmesh_static_runtime INTERFACE ${zmesh_archive_paths}
                          zmesh_unavailable_transports Threads::Threads)
    # Each function and object in a section of its own, and the linker drops those no tool
    # reaches: text a process maps is resident in every node, and the kernel maps the pages
    # around each one touched too (zmesh-node text 3.9 -> 3.2 MB, RSS about -0.2 MiB a node).
    add_compile_options(-ffunction-sections -fdata-sections)
    # A static PIE: no dynamic loader and no shared library at all, still placed at a
    # random address. glibc's name lookup (getaddrinfo, for host names in --seed and
    # --advertise) handles /etc/hosts and DNS itself; other NSS modules it would load
    # from the glibc it was built with, which for a tool built on its host is the one there.
    target_link_options(zmesh_static_runtime INTERFACE -static-pie -Wl,--gc-sections)
    message(STATUS "zmesh: tools linked static (libzmq, libsodium, libstdc++, glibc)")
  endif()
endif()

set(zmesh_static_program "$<BOOL:$<TARGET_PROPERTY:ZMESH_STATIC_RUNTIME>>")
add_library(zmesh_zmq INTERFACE)
target_link_libraries(zmesh_zmq INTERFACE
  cppzmq_headers $<IF:${zmesh_static_program},zmesh_static_runtime,libzmq>)
add_library(zmesh_sodium INTERFACE)
target_link_libraries(zmesh_sodium INTERFACE
  $<IF:${zmesh_static_program},zmesh_static_runtime,PkgConfig::SODIUM>)
add_library(zmesh_program_options INTERFACE)
target_link_libraries(zmesh_program_options INTERFACE
  $<IF:${zmesh_static_program},zmesh_static_runtime,Boost::program_options>)
add_library(zmesh_sqlite INTERFACE)
target_include_directories(zmesh_sqlite INTERFACE
  $<TARGET_PROPERTY:SQLite::SQLite3,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(zmesh_sqlite INTERFACE
  $<IF:${zmesh_static_program},zmesh_static_runtime,SQLite::SQLite3>)
# cppzmq's headers without its link to the shared libzmq.
add_library(cppzmq_headers INTERFACE)
target_include_directories(cppzmq_headers INTERFACE
  $<TARGET_PROPERTY:cppzmq,INTERFACE_INCLUDE_DIRECTORIES>)

# Marks a program as linked against the archives (a no-op when there are none).
function(zmesh_static_runtime program)
  if(ZMESH_STATIC_TOOLS)
    set_target_properties(${program} PROPERTIES ZMESH_STATIC_RUNTIME ON)
  endif()
endfunction()
