# XMEM_SANITIZE applies to everything built in this tree (library, tools, tests), so that the
# instrumented library is what the tests exercise.
if(XMEM_SANITIZE)
  add_compile_options(-fsanitize=${XMEM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${XMEM_SANITIZE})
endif()
