# Writes OUT (a header defining FP8SIM_TOOL_VERSION: the project version and `git describe --always --dirty` of
# SRC) when its content changes, so that only what includes it recompiles. Run at every build (simrun/CMakeLists.txt).
execute_process(COMMAND git -C "${SRC}" describe --always --dirty
                OUTPUT_VARIABLE _describe OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR _describe STREQUAL "")
  set(_describe "no-git")
endif()
set(_text "#define FP8SIM_TOOL_VERSION \"${VERSION}+${_describe}\"\n")
set(_old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" _old)
endif()
if(NOT _old STREQUAL _text)
  file(WRITE "${OUT}" "${_text}")
endif()
