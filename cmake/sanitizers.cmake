# ASan + UBSan for the whole build when TEVO_SANITIZE is on (the `asan` preset).
if(TEVO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
