# Boost (headers only: Asio, Beast and Redis) and nlohmann/json.
#
# Boost >= 1.90 (Boost.Redis as the cluster uses it): a system Boost when present, else the cmeel-boost wheel. The wheel is found on
# the build interpreter's sys.path (pip's isolated build environment) or in build/deps, where
# the Makefile installs it for plain CMake builds without putting it in the test environment.
find_package(Threads REQUIRED)

set(_gs_search_dirs "${CMAKE_CURRENT_SOURCE_DIR}/build/deps")
if(Python_EXECUTABLE OR SKBUILD)
  if(NOT Python_EXECUTABLE)
    find_package(Python COMPONENTS Interpreter REQUIRED)
  endif()
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c "import sys; print(';'.join(p for p in sys.path if p))"
    OUTPUT_VARIABLE _gs_syspath OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(PREPEND _gs_search_dirs ${_gs_syspath})
endif()

find_package(Boost 1.90 CONFIG QUIET)
if(NOT Boost_FOUND)
  foreach(_dir IN LISTS _gs_search_dirs)
    if(EXISTS "${_dir}/cmeel.prefix/lib/cmake")
      list(APPEND CMAKE_PREFIX_PATH "${_dir}/cmeel.prefix")
      break()
    endif()
  endforeach()
  find_package(Boost 1.90 CONFIG REQUIRED)
endif()
message(STATUS "GoldenSignals: Boost ${Boost_VERSION} from ${Boost_DIR}")

find_package(nlohmann_json 3.11 CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  set(_gs_json_inc "")
  foreach(_dir IN LISTS _gs_search_dirs)
    if(EXISTS "${_dir}/nlohmann_json/include/nlohmann/json.hpp")
      set(_gs_json_inc "${_dir}/nlohmann_json/include")
      break()
    endif()
  endforeach()
  if(NOT _gs_json_inc)
    message(FATAL_ERROR "nlohmann/json not found: install Debian's nlohmann-json3-dev or the "
                        "nlohmann-json wheel (make deps puts it in build/deps)")
  endif()
  add_library(nlohmann_json INTERFACE)
  target_include_directories(nlohmann_json SYSTEM INTERFACE "${_gs_json_inc}")
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
  message(STATUS "GoldenSignals: nlohmann/json from ${_gs_json_inc}")
endif()

# System libraries: the signal store (SQLite), JWT verification (libjwt, on OpenSSL) and TLS
# (OpenSSL). All of them are looked for first, so a build from the sdist on a machine without
# them stops once, naming every Debian package to install.
set(_gs_missing "")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBJWT QUIET IMPORTED_TARGET libjwt)
endif()
if(NOT PkgConfig_FOUND)
  list(APPEND _gs_missing pkgconf)
endif()
if(NOT LIBJWT_FOUND)
  list(APPEND _gs_missing libjwt-dev)
endif()
find_package(OpenSSL 3 QUIET)
if(NOT OpenSSL_FOUND)
  list(APPEND _gs_missing libssl-dev)
endif()
find_package(SQLite3 QUIET)
if(NOT SQLite3_FOUND)
  list(APPEND _gs_missing libsqlite3-dev)
endif()
# ?format=protobuf: libprotobuf, and protoc at build time; 3.15 or later (proto3 `optional`
# without a flag). Built and tested with Debian 12's 3.21.
find_package(Protobuf 3.15 QUIET)
if(NOT Protobuf_FOUND OR NOT TARGET protobuf::libprotobuf)
  list(APPEND _gs_missing libprotobuf-dev)
endif()
if(NOT Protobuf_PROTOC_EXECUTABLE)
  list(APPEND _gs_missing protobuf-compiler)
endif()
# The Analog agent's approximate index: hnswlib's headers (header-only).
find_path(GS_HNSWLIB_INCLUDE hnswlib/hnswlib.h)
if(NOT GS_HNSWLIB_INCLUDE)
  list(APPEND _gs_missing libhnswlib-dev)
endif()
if(_gs_missing)
  list(JOIN _gs_missing " " _gs_missing_text)
  message(FATAL_ERROR
          "GoldenSignals needs system libraries that are missing: ${_gs_missing_text}.\n"
          "On Debian or Ubuntu: sudo apt-get install -y ${_gs_missing_text}\n"
          "(or install a prebuilt wheel, which carries them: docs/operations.md)")
endif()
