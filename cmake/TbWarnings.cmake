# Warning and sanitizer flags, probed so any C11 compiler works.
include(CheckCCompilerFlag)
set(TB_WARNING_FLAGS)
# -Wno-format-truncation: the model's names live in fixed-size fields and snprintf's
# truncation is the intended behaviour there; GCC flags it only at some optimisation
# levels, which made Debug and Release builds disagree under -Werror.
foreach(flag -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
        -Wno-unused-parameter -Wno-format-truncation)
  string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND TB_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(TB_WERROR)
  list(APPEND TB_WARNING_FLAGS -Werror)
endif()
add_compile_options(${TB_WARNING_FLAGS})
add_compile_definitions(_GNU_SOURCE)

if(TB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
