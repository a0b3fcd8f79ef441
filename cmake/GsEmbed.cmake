# cmake -DINPUT=file -DOUTPUT=file.cpp -DNAMESPACE=ns -DNAME=name -P GsEmbed.cmake
# Writes a C++ file defining `const unsigned char NAME[]` and `const std::size_t NAME_size`
# (in NAMESPACE) with INPUT's bytes: build outputs compiled in without a resource loader.
file(READ "${INPUT}" _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _size "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" _bytes "${_bytes}")
file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${INPUT} by cmake/GsEmbed.cmake; do not edit.\n"
     "#include <cstddef>\n\nnamespace ${NAMESPACE} {\n"
     "extern const unsigned char ${NAME}[];\nextern const std::size_t ${NAME}_size;\n"
     "const unsigned char ${NAME}[] = {\n${_bytes}0x00};\n"
     "const std::size_t ${NAME}_size = ${_size};\n}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
