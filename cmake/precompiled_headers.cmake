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
