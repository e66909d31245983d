// Writes what the aggregator measured as Prometheus families under one namespace (default
// "deepseek", R1.4): the request families of ECOSYSTEM.md 2.10 and the three dimensions of R1 as
// <ns>_input_*, <ns>_output_* and <ns>_resource_*, so that the specification's relabel rule
// (regex <ns>_(input|output|resource)_(\w+) -> metric_type) applies unchanged.
//
// Thread contract: pure; reads an immutable snapshot.
#pragma once

#include <string>

#include "observe/aggregator.h"
#include "observe/exposition.h"

namespace dw::observe {

void writeObserved(ExpositionWriter& writer, const MetricsSnapshot& snapshot,
                   const std::string& ns);

}  // namespace dw::observe
