# Writes OUT: a C++ file that holds the shim headers as string literals, so that the library
# needs no files beside it at run time.
file(READ "${SHIM}" shim)
file(READ "${ABI}" abi)
file(WRITE "${OUT}.tmp"
  "// Generated from include/cuda_shim.h and include/scone_emu_abi.h; do not edit.\n"
  "namespace scone {\n"
  "extern const char* const kShimHeader = R\"SCONE_EMBED(${shim})SCONE_EMBED\";\n"
  "extern const char* const kAbiHeader = R\"SCONE_EMBED(${abi})SCONE_EMBED\";\n"
  "}\n")
file(RENAME "${OUT}.tmp" "${OUT}")
