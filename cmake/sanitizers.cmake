# Sanitizer and fuzzing builds (R10; STYLE.md, Tests: the same suites pass under ASan+UBSan and
# under TSan). Applied to dw_flags, so every library, test and tool of the build gets them.
#
#   -DDW_SANITIZE=ON or address   AddressSanitizer + UndefinedBehaviorSanitizer (make test-sanitize)
#   -DDW_SANITIZE=thread          ThreadSanitizer (make test-tsan)
#   -DDW_FUZZ=ON                  libFuzzer targets in fuzz/ (clang-14 only; make fuzz)
#
# UB is fatal (-fno-sanitize-recover), so a report fails the test that hit it instead of
# scrolling past in a log.
string(TOLOWER "${DW_SANITIZE}" dw_sanitize)
if(dw_sanitize STREQUAL "on" OR dw_sanitize STREQUAL "address")
  set(DW_SANITIZERS address,undefined)
elseif(dw_sanitize STREQUAL "thread")
  set(DW_SANITIZERS thread)
elseif(dw_sanitize STREQUAL "off" OR dw_sanitize STREQUAL "")
  set(DW_SANITIZERS "")
else()
  message(FATAL_ERROR "DW_SANITIZE='${DW_SANITIZE}': expected OFF, ON, address or thread")
endif()

if(DW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
    message(FATAL_ERROR
      "DW_FUZZ=ON needs clang 14 or newer (libFuzzer ships with it); this build uses "
      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}. Configure a separate build with "
      "-DCMAKE_CXX_COMPILER=clang++-14 (Debian: clang-14 libclang-rt-14-dev), or run `make fuzz`.")
  endif()
  if(DW_SANITIZERS STREQUAL "thread")
    message(FATAL_ERROR "DW_FUZZ=ON runs under ASan+UBSan; it cannot be combined with DW_SANITIZE=thread")
  endif()
  # The libraries get the coverage instrumentation libFuzzer steers by, without its main();
  # the targets in fuzz/ link -fsanitize=fuzzer.
  set(DW_SANITIZERS address,undefined)
  target_compile_options(dw_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()

if(DW_SANITIZERS)
  target_compile_options(dw_flags INTERFACE -fsanitize=${DW_SANITIZERS} -fno-omit-frame-pointer)
  target_link_options(dw_flags INTERFACE -fsanitize=${DW_SANITIZERS})
  if(DW_SANITIZERS MATCHES "undefined")
    target_compile_options(dw_flags INTERFACE -fno-sanitize-recover=undefined)
    # clang 14 cannot emit -fsanitize=function's prologue data in the parts of a split
    # coroutine ("error: Cannot represent a difference across sections"); that check (a call
    # through a function pointer of the wrong type) is left out of clang builds.
    target_compile_options(dw_flags INTERFACE $<$<CXX_COMPILER_ID:Clang>:-fno-sanitize=function>)
  endif()
  if(DW_SANITIZERS STREQUAL "thread")
    # g++ 12 warns (-Wtsan) that TSan does not model std::atomic_thread_fence, which Asio's
    # handler completion uses (asio/detail/std_fenced_block.hpp). The warning is about the
    # library, not our code; the orderings that matter to us are made by the scheduler's mutex.
    target_compile_options(dw_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  endif()
  message(STATUS "deepwatch: sanitizers ${DW_SANITIZERS}")
endif()
