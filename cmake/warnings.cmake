# Compiler flags shared by every target of the project.
add_library(dw_flags INTERFACE)
target_compile_options(dw_flags INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
# g++ 12 reports Asio's awaitable frame allocator (a custom operator new/delete pair that
# recycles frames) as mismatched; it is a false positive of that compiler version.
target_compile_options(dw_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
# Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>;
# including it first lets C++20 coroutines compile with g++ 12 (see DESIGN.md).
target_compile_options(dw_flags INTERFACE -include utility)
target_compile_definitions(dw_flags INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW
  BOOST_ASIO_DISABLE_BOOST_COROUTINE
  DW_VERSION="${PROJECT_VERSION}")
if(DW_SANITIZE)
  target_compile_options(dw_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(dw_flags INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(dw_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)

# dw_add_library(NAME SOURCES... DEPS ...): one library per subsystem.
function(dw_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC dw_flags ${ARG_DEPS})
endfunction()
