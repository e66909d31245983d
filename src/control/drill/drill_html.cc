#include "control/drill/drill_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/report_html.h"

namespace dw::control::drill {
namespace {

using report::escapeHtml;

constexpr int kWidth = 960;
constexpr int kLeft = 112;
constexpr int kRight = 16;
constexpr int kBarsTop = 36;
constexpr int kBarsHeight = 150;
constexpr int kLaneTop = kBarsTop + kBarsHeight + 28;
constexpr int kLaneHeight = 22;

constexpr const char* kStyle = R"css(
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.pass{color:#007a3d;font-weight:600}.fail{color:#b00020;font-weight:600}
.verdict{font-size:1.3em;padding:8px 12px;display:inline-block;border-radius:4px}
.verdict.pass{background:#e6f4ea}.verdict.fail{background:#fce8e6}
.muted{color:#666}svg text{font-size:11px;font-family:system-ui,sans-serif}
)css";

std::string seconds(const std::optional<double>& v) {
  return v ? fmt::format("{:.1f} s", *v) : std::string("not measured");
}

std::string verdict(bool passed) {
  return passed ? "<span class=\"pass\">pass</span>" : "<span class=\"fail\">fail</span>";
}

std::string measured(const BudgetCheck& c) {
  if (c.measure == "ran") {
    return "skipped";
  }
  if (!c.measured) {
    return "not measured";
  }
  return c.unit == "ratio" ? fmt::format("{:.4f}%", *c.measured * 100)
                           : fmt::format("{:.1f} s", *c.measured);
}

std::string budget(const BudgetCheck& c) {
  if (c.measure == "ran") {
    return "must run";
  }
  return c.unit == "ratio"
             ? fmt::format("&ge; {:.2f}%", c.budget * 100)
             : fmt::format("{} {:.0f} s", c.measure == "mttr" ? "&lt;" : "&le;", c.budget);
}

// Per-second requests (stacked: answered, failed) over the drill, the fault windows shaded, and
// a lane of markers: injection (black), detection (orange), recovery (green).
std::string timelineSvg(const DrillReport& r) {
  const double total = std::max(1.0, r.duration_s);
  const double plot = kWidth - kLeft - kRight;
  auto x = [&](double t) { return kLeft + plot * std::clamp(t, 0.0, total) / total; };
  uint64_t peak = 1;
  for (const SecondStats& s : r.seconds) {
    peak = std::max(peak, s.ok + s.failed);
  }
  const int height = kLaneTop + kLaneHeight * static_cast<int>(r.faults.size() + 1) + 24;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"drill timeline\">\n",
      kWidth, height);
  // Fault windows behind the bars, their names on two alternating rows so they do not overlap.
  int row = 0;
  for (const FaultResult& f : r.faults) {
    if (!f.ran) {
      continue;
    }
    const int label_y = kBarsTop - 6 - 12 * (row++ % 2);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#fff3cd\"/>"
        "<text x=\"{:.1f}\" y=\"{}\">{}</text>\n",
        x(f.injected_at), kBarsTop, std::max(1.0, x(f.ended_at) - x(f.injected_at)), kBarsHeight,
        x(f.injected_at) + 2, label_y, escapeHtml(specOf(f.kind).name));
  }
  const double bar = std::max(1.0, plot / total);
  for (size_t i = 0; i < r.seconds.size(); ++i) {
    const SecondStats& s = r.seconds[i];
    const double ok_h = kBarsHeight * static_cast<double>(s.ok) / static_cast<double>(peak);
    const double failed_h = kBarsHeight * static_cast<double>(s.failed) / static_cast<double>(peak);
    const double left = x(static_cast<double>(i));
    const double bottom = kBarsTop + kBarsHeight;
    if (s.ok > 0) {
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#0072B2\"/>",
          left, bottom - ok_h, bar, ok_h);
    }
    if (s.failed > 0) {
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#D55E00\">"
          "<title>{} s: {} failed</title></rect>",
          left, bottom - ok_h - failed_h, bar, failed_h, i, s.failed);
    }
  }
  svg += "\n";
  // Axes.
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#444\"/>"
      "<text x=\"4\" y=\"{3}\">{4} req/s</text><text x=\"4\" y=\"{1}\">0</text>\n",
      kLeft, kBarsTop + kBarsHeight, kWidth - kRight, kBarsTop + 10, peak);
  const double step = total > 600 ? 120 : total > 240 ? 60 : total > 60 ? 30 : 10;
  for (double t = 0; t <= total; t += step) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.0f}s</text>", x(t) - 8,
                       kBarsTop + kBarsHeight + 14, t);
  }
  svg += "\n";
  // One lane per fault with its markers.
  int lane = 0;
  for (const FaultResult& f : r.faults) {
    const int y = kLaneTop + kLaneHeight * lane++;
    svg += fmt::format("<text x=\"4\" y=\"{}\">{}</text>", y + 14, escapeHtml(specOf(f.kind).name));
    if (!f.ran) {
      svg += fmt::format("<text x=\"{}\" y=\"{}\" class=\"muted\">skipped</text>\n", kLeft, y + 14);
      continue;
    }
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#eee\"/>",
                       x(f.injected_at), y + 4, std::max(1.0, x(f.ended_at) - x(f.injected_at)),
                       kLaneHeight - 8);
    auto marker = [&](double t, const char* colour, const std::string& title) {
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{}\" width=\"3\" height=\"{}\" fill=\"{}\"><title>{}</title>"
          "</rect>",
          x(t) - 1, y + 2, kLaneHeight - 4, colour, escapeHtml(title));
    };
    marker(f.injected_at, "#000", fmt::format("injected at {:.1f} s", f.injected_at));
    if (f.detect_s) {
      marker(f.injected_at + *f.detect_s, "#E69F00",
             fmt::format("detected after {:.1f} s: {}", *f.detect_s, f.detected_by));
    }
    if (f.recover_s) {
      marker(f.injected_at + *f.recover_s, "#009E73",
             fmt::format("recovered after {:.1f} s: {}", *f.recover_s, f.recovered_by));
    }
    svg += "\n";
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\">bars: requests per second answered (blue) and failed (red); "
      "lanes: injected (black), detected (orange), recovered (green)</text>\n",
      kLeft, height - 6);
  svg += "</svg>\n";
  return svg;
}

}  // namespace

std::string renderDrillHtml(const DrillReport& r) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += "<title>deepwatch drill</title><style>";
  html += kStyle;
  html += "</style></head><body>\n";
  html += fmt::format(
      "<h1>deepwatch drill (R10)</h1>\n<p><span class=\"verdict {}\">{}</span></p>\n"
      "<p>Gateway {} (admin {}), {}{:.0f} req/s after a {:.0f} s ramp and a {:.0f} s hold; "
      "{:.0f} s in all. {} requests, {} failed, availability {:.4f}%.</p>\n",
      r.passed ? "pass" : "fail", r.passed ? "PASS: every budget met" : "FAIL: a budget was missed",
      escapeHtml(r.gateway), escapeHtml(r.admin), r.short_drill ? "short drill, " : "", r.qps,
      r.ramp_s, r.hold_s, r.duration_s, r.requests.requests, r.requests.failed,
      r.requests.availability() * 100);

  html +=
      "<h2>Budgets</h2>\n<table><tr><th>check</th><th>measured</th><th>budget</th>"
      "<th>verdict</th><th>requirement</th><th>note</th></tr>\n";
  for (const BudgetCheck& c : r.checks) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        escapeHtml(c.name), measured(c), budget(c), verdict(c.passed), escapeHtml(c.requirement),
        escapeHtml(c.note));
  }
  html += "</table>\n";

  html += "<h2>Timeline</h2>\n" + timelineSvg(r);

  html +=
      "<h2>Faults</h2>\n<table><tr><th>fault</th><th>target</th><th>detected</th>"
      "<th>recovered</th><th>requests failed</th><th>availability</th><th>notes</th></tr>\n";
  for (const FaultResult& f : r.faults) {
    const FaultSpec& spec = specOf(f.kind);
    if (!f.ran) {
      html += fmt::format("<tr><td>{}</td><td colspan=\"6\">skipped: {}</td></tr>\n",
                          escapeHtml(spec.title), escapeHtml(f.skip_reason));
      continue;
    }
    std::string notes;
    for (const std::string& n : f.notes) {
      notes += escapeHtml(n) + "<br>";
    }
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td>"
        "<td>{}<br><span class=\"muted\">{}</span></td><td>{} of {}{}</td><td>{:.3f}%</td>"
        "<td>{}</td></tr>\n",
        escapeHtml(spec.title), escapeHtml(f.target), seconds(f.detect_s),
        escapeHtml(f.detected_by.empty() ? std::string(spec.detected_by) : f.detected_by),
        seconds(f.recover_s),
        escapeHtml(f.recovered_by.empty() ? std::string(spec.recovered_by) : f.recovered_by),
        f.requests.failed, f.requests.requests, escapeHtml(errorSummary(f.requests)),
        f.requests.availability() * 100, notes);
  }
  html += "</table>\n";

  html += "<h2>Events</h2>\n<table><tr><th>t</th><th>kind</th><th>fault</th><th>what</th></tr>\n";
  for (const TimelineEvent& e : r.timeline) {
    html += fmt::format("<tr><td>{:.1f} s</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", e.t,
                        escapeHtml(e.kind), escapeHtml(e.fault), escapeHtml(e.text));
  }
  html += "</table>\n</body></html>\n";
  return html;
}

}  // namespace dw::control::drill
