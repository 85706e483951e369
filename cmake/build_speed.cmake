# How the heaviest targets are built faster. The build is most of CI's time (the ASan/UBSan
# build alone was 12 of its 43 minutes), and nearly every file of the proxy reaches Boost.Asio,
# Beast, spdlog, fmt and simdjson through our headers.

# flocker_precompile(TARGET...): give each target cmake/flocker_pch.h as a precompiled header.
# Each target gets its own (its compile definitions differ, and GCC refuses a PCH built with
# other macros; with -Werror the -Winvalid-pch warning would stop the build, which is what we
# want). Off with -DFLOCKER_PCH=OFF, e.g. to check that every file includes what it uses.
option(FLOCKER_PCH "Precompile the third-party headers of the heaviest targets" ON)
function(flocker_precompile)
  if(NOT FLOCKER_PCH)
    return()
  endif()
  foreach(t IN LISTS ARGN)
    target_precompile_headers(${t} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/flocker_pch.h)
  endforeach()
endfunction()

# flocker_unity(TARGET...): with -DFLOCKER_UNITY=ON, compile each target's files in batches of
# 8 (CMake's unity build), so the coroutine and template code they share is instantiated and
# compiled once per batch rather than once per file. Off by default: an edit recompiles its
# whole batch, and only separate files show a missing #include. tests/run-all.sh turns it on
# for the sanitizer build (the release build stays file by file, so both ways are checked).
option(FLOCKER_UNITY "Build the proxy's layers as unity batches" OFF)
function(flocker_unity)
  if(NOT FLOCKER_UNITY)
    return()
  endif()
  foreach(t IN LISTS ARGN)
    set_target_properties(${t} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    # In a batch each .cc is included from the generated one, so GCC takes a coroutine frame
    # or a class that uses a type from the .cc's anonymous namespace for a header's: a false
    # -Wsubobject-linkage (it stays on for the separate-file builds).
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${t} PRIVATE -Wno-subobject-linkage)
    endif()
  endforeach()
endfunction()
