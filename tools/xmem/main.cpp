// The xmem command: a thin face over the library.
#include "command_line.h"

int main(int argc, char** argv) { return xmem::cli::runCommandLine(argc, argv); }
