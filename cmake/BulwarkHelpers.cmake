# bulwark_library(NAME SOURCES ... DEPS ...): one static library per source folder.
# bulwark_test(NAME [SERIAL] [WHOLE_BINARY] SOURCES ... DEPS ... [LABELS ...]): a GoogleTest
# binary registered with CTest, one CTest entry per test case; SERIAL tests run alone (they look
# at shared places like /dev/shm); WHOLE_BINARY registers the binary as one entry, for suites
# that start a server once per process (PostgreSQL) rather than once per test case.
# bulwark_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target (BULWARK_FUZZERS only).

set(BULWARK_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)
if(BULWARK_WERROR)
  list(APPEND BULWARK_WARNINGS -Werror)
endif()

set(BULWARK_SANITIZER_FLAGS)
if(BULWARK_SANITIZE)
  set(BULWARK_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
endif()
set(BULWARK_FUZZ_INSTRUMENT)
if(BULWARK_FUZZERS)
  set(BULWARK_FUZZ_INSTRUMENT -fsanitize=fuzzer-no-link)
endif()

function(bulwark_apply_flags target)
  target_compile_options(${target} PRIVATE ${BULWARK_WARNINGS} ${BULWARK_SANITIZER_FLAGS}
                         ${BULWARK_FUZZ_INSTRUMENT})
  target_link_options(${target} PRIVATE ${BULWARK_SANITIZER_FLAGS})
endfunction()

function(bulwark_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
  bulwark_apply_flags(${name})
endfunction()

function(bulwark_test name)
  if(NOT BULWARK_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "SERIAL;WHOLE_BINARY" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
      BULWARK_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      BULWARK_CORPUS_DIR="${PROJECT_SOURCE_DIR}/../shared/corpus")
  bulwark_apply_flags(${name})
  include(GoogleTest)
  set(properties)
  if(ARG_LABELS)
    list(APPEND properties LABELS ${ARG_LABELS})
  endif()
  if(ARG_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  if(ARG_WHOLE_BINARY)
    add_test(NAME ${name} COMMAND ${name})
    if(properties)
      set_tests_properties(${name} PROPERTIES ${properties})
    endif()
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
  endif()
endfunction()

function(bulwark_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  bulwark_apply_flags(${name})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()

# qpdf 11.3's JSON.hh does not compile as C++20 under clang 14 (std::vector of an
# incomplete type in a defaulted destructor); translation units that include qpdf are
# compiled as C++17 there. Our headers they include stay C++17-clean.
function(bulwark_qpdf_source)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    set_source_files_properties(${ARGN} DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
                                PROPERTIES COMPILE_OPTIONS "-std=c++17")
  endif()
endfunction()
