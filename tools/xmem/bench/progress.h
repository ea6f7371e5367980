// How the harness tells people what it is doing: one line per step, to standard error.
#pragma once

#include <functional>
#include <string>

namespace xmem::bench {

using Say = std::function<void(const std::string& line)>;

}  // namespace xmem::bench
