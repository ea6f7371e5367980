# Turns one text file into a C++ source that defines `std::string_view NAME() noexcept` in
# xmem::server::assets, as a raw string literal, so the page's script and style sheet are in the
# binary (offline rigs, CSP 'self') and stay editable as plain files.
# Run as: cmake -DINPUT=file -DOUTPUT=file.cpp -DNAME=function -P embed_asset.cmake
file(READ ${INPUT} content)
set(delimiter "xmem_asset")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )${delimiter}\", which would end the raw string literal")
endif()
file(WRITE ${OUTPUT}.tmp
  "// Generated from ${INPUT} by embed_asset.cmake: edit that file, not this one.\n"
  "#include <string_view>\n\n"
  "namespace xmem::server::assets {\n"
  "std::string_view ${NAME}() noexcept {\n"
  "  static constexpr std::string_view text = R\"${delimiter}(${content})${delimiter}\";\n"
  "  return text;\n"
  "}\n"
  "}  // namespace xmem::server::assets\n")
# Only a changed asset touches the output, so an unchanged one rebuilds nothing.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
