// `xmem_hugepage_counts save FILE` / `restore FILE`: the CTest fixture around the kernel tests,
// so a test that dies cannot leave huge pages reserved on the machine.
#include "kernel_facts.h"

#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: xmem_hugepage_counts save|restore FILE\n";
    return 2;
  }
  const std::string verb = argv[1];
  const std::string file = argv[2];
  try {
    if (verb == "save") {
      std::ofstream out(file);
      for (const auto& path : xmem::testing::hugePageCountFiles())
        out << path << ' ' << xmem::testing::readCount(path) << '\n';
      std::cout << "saved huge page counts to " << file << '\n';
      return 0;
    }
    if (verb == "restore") {
      std::ifstream in(file);
      std::string path;
      std::uint64_t value = 0;
      while (in >> path >> value) {
        if (xmem::testing::readCount(path) != value) {
          if (xmem::testing::isRoot()) xmem::testing::writeCount(path, value);
          std::cout << "restored " << path << " to " << value << '\n';
        }
      }
      return 0;
    }
  } catch (const std::exception& error) {
    std::cerr << "xmem_hugepage_counts: " << error.what() << '\n';
    return 1;
  }
  std::cerr << "unknown verb " << verb << '\n';
  return 2;
}
