# Warnings for the project's own targets (never for third-party headers, which come in as -isystem).
add_library(hemeplm_warnings INTERFACE)
target_compile_options(hemeplm_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>)
