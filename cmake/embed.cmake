# Writes OUT: a C file defining `const char NAME[]` with the bytes of IN, NUL-terminated
# (the HTML report's style sheet and script, compiled into the binary so the report is
# written offline). cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" hex "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake. */\nconst char ${NAME}[] = {\n${hex}0x00};\n")
