// Rendering of the weekly report (R6): one self-contained HTML page (inline CSS and inline SVG
// charts drawn here, no script and no external resource, so it can be mailed or archived as
// one file) and the same data as JSON. Headings are bilingual (Chinese and English); every
// section is present, with a "no data in this period" note when it has nothing to show; all
// text from the data (model names, reasons, rule names) is escaped.
//
// Thread contract: pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "report/report_data.h"

namespace dw::report {

std::string renderHtml(const ReportData& data);
nlohmann::json toJson(const ReportData& data);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string escapeHtml(std::string_view text);

}  // namespace dw::report
