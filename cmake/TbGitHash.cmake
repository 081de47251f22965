# Script mode (cmake -P), run at every build by the tb_git_hash target: writes
# generated/tb_git.h with the checkout's commit, marked "-dirty" when tracked files differ
# from it, so a binary built after a commit or an edit never reports the configure's
# commit. The file is rewritten only when its text changes (no needless rebuilds).
# Inputs: SRC (the source tree), OUT (the header to write).
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE hash RESULT_VARIABLE rc
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rc EQUAL 0 OR NOT hash)
  set(hash "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no
    WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE changes ERROR_QUIET)
  if(changes)
    string(APPEND hash "-dirty")
  endif()
endif()
set(text "/* Generated at build time by cmake/TbGitHash.cmake. */\n#define TB_GIT_HASH \"${hash}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
