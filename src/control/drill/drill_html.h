// The drill report for people: one self-contained HTML page (inline CSS and an inline SVG
// timeline, no script, no external resource) with the verdict, every budget, every fault and
// the timeline of events. All text from the deployment (reasons, rule names) is escaped.
//
// Thread contract: a pure function, thread-safe.
#pragma once

#include <string>

#include "control/drill/drill_report.h"

namespace dw::control::drill {

std::string renderDrillHtml(const DrillReport& report);

}  // namespace dw::control::drill
