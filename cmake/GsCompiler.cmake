# Warnings are errors; ccache when present; sanitizers on request.
find_program(GS_CCACHE ccache)
if(GS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${GS_CCACHE})
endif()

add_library(gs_warnings INTERFACE)
target_compile_options(gs_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wnon-virtual-dtor -Werror)

if(GS_SANITIZE)
  string(REPLACE ";" "," _gs_san "${GS_SANITIZE}")
  add_compile_options(-fsanitize=${_gs_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_gs_san})
  if("thread" IN_LIST GS_SANITIZE)
    # GCC warns that TSan does not model std::atomic_thread_fence (used inside Asio).
    add_compile_options(-Wno-tsan)
  endif()
  if("undefined" IN_LIST GS_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Clang 14's -fsanitize=function (part of 'undefined') cannot compile C++20 coroutines
    # (cluster/cluster.cpp: "Cannot represent a difference across sections"); every other
    # UBSan check stays on.
    add_compile_options(-fno-sanitize=function)
  endif()
endif()
