// `xmem bench --json`: every figure of the run, for scripts.
#pragma once

#include "harness.h"

#include <nlohmann/json.hpp>

namespace xmem::bench {

nlohmann::json jsonReport(const Settings& settings, const Results& results);

}  // namespace xmem::bench
