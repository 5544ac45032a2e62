# Warning flags for tevo's own targets (third-party headers are included as SYSTEM).
function(tevo_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough -Wswitch)
  # g++ 12 at -O3 reports impossible overlaps inside std::string's operator+ (GCC bug
  # 105329, a false positive in libstdc++'s own code): -Wrestrict is off for g++ so that
  # Release builds (make bench) keep warnings as errors.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(TEVO_WERROR)
    set_target_properties(${target} PROPERTIES COMPILE_WARNING_AS_ERROR ON)
  endif()
endfunction()
