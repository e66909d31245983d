# Compiler flags shared by every target of the project.
add_library(dw_flags INTERFACE)
target_compile_options(dw_flags INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
# g++ 12 reports Asio's awaitable frame allocator (a custom operator new/delete pair that
# recycles frames) as mismatched; it is a false positive of that compiler version.
target_compile_options(dw_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
# Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>;
# including it first lets C++20 coroutines compile with g++ 12 (see DESIGN.md).
target_compile_options(dw_flags INTERFACE -include utility)
# Boost 1.74 enables co_await on clang only with the Coroutines TS and libc++'s
# <experimental/coroutine>; clang 14 in C++20 mode has standard coroutines and libstdc++'s
# <coroutine>, which Asio then uses (BOOST_ASIO_HAS_STD_COROUTINE is already detected).
target_compile_definitions(dw_flags INTERFACE $<$<CXX_COMPILER_ID:Clang>:BOOST_ASIO_HAS_CO_AWAIT=1>)
# simdjson's CMake package adds -pthread to the targets that use it, and clang refuses a
# precompiled header built without it ("POSIX thread support was disabled in PCH file"): with
# clang every target compiles with -pthread, so that all of them can share dw_pch.
target_compile_options(dw_flags INTERFACE $<$<CXX_COMPILER_ID:Clang>:-pthread>)
# Without NDEBUG, a failed BOOST_ASSERT goes to src/net/boost_assert.cc (one of Boost 1.74's
# HTTP parser assertions is wrong); with NDEBUG, Boost's assertions stay compiled out.
target_compile_definitions(dw_flags INTERFACE
  BOOST_ENABLE_ASSERT_DEBUG_HANDLER
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW
  BOOST_ASIO_DISABLE_BOOST_COROUTINE
  DW_VERSION="${PROJECT_VERSION}")
target_include_directories(dw_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)

# dw_add_library(NAME SOURCES... DEPS ...): one library per subsystem.
function(dw_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC dw_flags ${ARG_DEPS})
endfunction()
