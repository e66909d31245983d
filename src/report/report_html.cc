#include "report/report_html.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace dw::report {
namespace {

// Colours of the series, in order (colour-blind friendly, Okabe-Ito).
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

constexpr int kWidth = 900;
constexpr int kHeight = 260;
constexpr int kLeft = 64;
constexpr int kRight = 16;
constexpr int kTop = 16;
constexpr int kBottom = 40;

const char* colour(size_t i) { return kPalette[i % kPaletteSize]; }

// A number for people: NaN as "n/a", otherwise up to 4 significant digits.
std::string num(double v) {
  if (std::isnan(v)) {
    return "n/a";
  }
  if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  }
  return fmt::format("{:.4g}", v);
}

std::string percent(double v) { return std::isnan(v) ? "n/a" : fmt::format("{:.1f}%", v * 100); }

std::string latencyLabel(double ms) {
  if (std::isinf(ms)) {
    return ">60s";
  }
  return ms >= 1000 ? fmt::format("{:.3g}s", ms / 1000) : fmt::format("{:.3g}ms", ms);
}

std::string versionName(const VersionSeries& v) { return v.model + " " + v.version; }

struct Line {
  std::string name;
  std::vector<double> values;
};

struct Threshold {
  double value;
  std::string label;
};

std::string noData() { return "<p class=\"empty\">本期无数据 No data in this period.</p>\n"; }

std::string dayLabel(int64_t ms) { return isoTime(ms).substr(5, 5); }

// A line chart of series on the report's grid; NaN breaks a line.
std::string lineChart(const ReportData& data, const std::vector<Line>& lines,
                      const std::string& unit, const std::vector<Threshold>& thresholds = {},
                      bool zero_based = true) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const Line& line : lines) {
    for (double v : line.values) {
      if (!std::isnan(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (std::isinf(lo)) {
    return noData();
  }
  for (const Threshold& t : thresholds) {
    hi = std::max(hi, t.value);
  }
  if (zero_based) {
    lo = std::min(lo, 0.0);
  }
  if (hi - lo < 1e-9) {
    hi = lo + 1;
  }
  hi += (hi - lo) * 0.05;
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  const size_t n = data.grid_ms.size();
  auto x = [&](size_t i) {
    return kLeft + (n <= 1 ? 0.0 : plot_w * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  auto y = [&](double v) { return kTop + plot_h * (1 - (v - lo) / (hi - lo)); };
  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\">\n",
      kWidth, kHeight, kWidth, kHeight);
  for (int tick = 0; tick <= 4; ++tick) {
    const double v = lo + (hi - lo) * tick / 4;
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
        kLeft, y(v), kWidth - kRight, y(v), kLeft - 6, y(v) + 4, escapeHtml(num(v)));
  }
  // One tick per day (the grid starts at the period's start).
  for (size_t i = 0; i < n; ++i) {
    if ((data.grid_ms[i] - data.from_ms) % (24LL * 3600 * 1000) == 0) {
      svg += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" class=\"axis\"/>"
          "<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n",
          x(i), kHeight - kBottom, x(i), kHeight - kBottom + 4, x(i), kHeight - kBottom + 16,
          dayLabel(data.grid_ms[i]));
    }
  }
  svg += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>"
      "<text x=\"12\" y=\"{}\" class=\"tick\" transform=\"rotate(-90 12 {})\" "
      "text-anchor=\"middle\">{}</text>\n",
      kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom, kTop + plot_h / 2,
      kTop + plot_h / 2, escapeHtml(unit));
  for (const Threshold& t : thresholds) {
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" class=\"threshold\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
        kLeft, y(t.value), kWidth - kRight, y(t.value), kWidth - kRight - 4, y(t.value) - 4,
        escapeHtml(t.label));
  }
  for (size_t s = 0; s < lines.size(); ++s) {
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        svg += fmt::format(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
            "points=\"{}\"/>\n",
            colour(s), points);
        points.clear();
      }
    };
    for (size_t i = 0; i < lines[s].values.size() && i < n; ++i) {
      const double v = lines[s].values[i];
      if (std::isnan(v)) {
        flush();
        continue;
      }
      points += fmt::format("{:.1f},{:.1f} ", x(i), y(v));
    }
    flush();
  }
  svg += "</svg>\n<div class=\"legend\">";
  for (size_t s = 0; s < lines.size(); ++s) {
    svg += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", colour(s),
                       escapeHtml(lines[s].name));
  }
  svg += "</div>\n";
  return svg;
}

// Vertical bars with a label under each (a histogram or counts per day).
std::string columnChart(const std::vector<std::string>& labels, const std::vector<int64_t>& counts,
                        const std::string& fill) {
  int64_t hi = 0;
  for (int64_t c : counts) {
    hi = std::max(hi, c);
  }
  if (counts.empty() || hi == 0) {
    return noData();
  }
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  const double slot = plot_w / static_cast<double>(counts.size());
  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\">\n",
      kWidth, kHeight, kWidth, kHeight);
  for (int tick = 0; tick <= 4; ++tick) {
    const double v = static_cast<double>(hi) * tick / 4;
    const double y = kTop + plot_h * (1 - v / static_cast<double>(hi));
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
        kLeft, y, kWidth - kRight, y, kLeft - 6, y + 4, escapeHtml(num(v)));
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    const double h = plot_h * static_cast<double>(counts[i]) / static_cast<double>(hi);
    const double x = kLeft + slot * static_cast<double>(i);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
        "<title>{}: {}</title></rect>"
        "<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n",
        x + 1, kTop + plot_h - h, std::max(slot - 2, 1.0), h, fill, escapeHtml(labels[i]),
        counts[i], x + slot / 2, kHeight - kBottom + 16, escapeHtml(labels[i]));
  }
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>\n</svg>\n",
                     kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom);
  return svg;
}

// Horizontal bars, one per labelled value.
std::string barChart(const std::vector<std::pair<std::string, int64_t>>& bars,
                     const std::vector<std::string>& fills) {
  int64_t hi = 0;
  for (const auto& bar : bars) {
    hi = std::max(hi, bar.second);
  }
  if (bars.empty()) {
    return noData();
  }
  const int row = 24;
  const int label_w = 300;
  const int height = static_cast<int>(bars.size()) * row + 8;
  const double bar_w = kWidth - label_w - 80;
  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\">\n",
      kWidth, height, kWidth, height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = 4 + static_cast<int>(i) * row;
    const double w =
        hi == 0 ? 0.0 : bar_w * static_cast<double>(bars[i].second) / static_cast<double>(hi);
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{}\" class=\"tick\">{}</text>\n",
        label_w - 8, y + 15, escapeHtml(bars[i].first), label_w, y + 3, w, row - 6,
        fills[i % fills.size()], label_w + w + 6, y + 15, bars[i].second);
  }
  svg += "</svg>\n";
  return svg;
}

std::string severityColour(const std::string& severity) {
  if (severity == "critical") {
    return "#D55E00";
  }
  if (severity == "warning") {
    return "#E69F00";
  }
  return "#56B4E9";
}

std::string section(const std::string& id, const std::string& heading, const std::string& body) {
  return fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", id, heading, body);
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table>\n<tr>";
  for (const std::string& h : header) {
    out += "<th>" + escapeHtml(h) + "</th>";
  }
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& cell : row) {
      out += "<td>" + escapeHtml(cell) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

template <typename F>
std::vector<Line> linesOf(const ReportData& data, F field) {
  std::vector<Line> lines;
  for (const VersionSeries& v : data.versions) {
    lines.push_back(Line{versionName(v), field(v)});
  }
  return lines;
}

constexpr const char* kStyle = R"css(
body { font-family: "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 24px auto;
       max-width: 960px; color: #222; background: #fff; }
h1 { font-size: 24px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
h3 { font-size: 15px; }
section { margin-bottom: 28px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f4f4f4; }
.chart { display: block; max-width: 100%; height: auto; }
.chart .grid { stroke: #eee; } .chart .axis { stroke: #888; }
.chart .threshold { stroke: #D55E00; stroke-dasharray: 4 3; }
.chart .tick { font-size: 10px; fill: #555; }
.legend span { margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.empty { color: #888; font-style: italic; }
.note { color: #555; font-size: 12px; }
)css";

std::string overviewSection(const ReportData& data) {
  std::string body = fmt::format(
      "<p>统计周期 Period: {} &ndash; {} (上期 previous: {} &ndash; {})</p>\n",
      escapeHtml(isoTime(data.from_ms)), escapeHtml(isoTime(data.to_ms)),
      escapeHtml(isoTime(data.previous_from_ms)), escapeHtml(isoTime(data.previous_to_ms)));
  body += fmt::format(
      "<p class=\"note\">差分隐私 Differential privacy: counts (requests, errors, latency "
      "histogram, anomaly events) carry discrete Laplace noise, epsilon = {}, L1 sensitivity "
      "{}, release {}; spent {} of the budget, {} left. Percentiles are computed from the noised "
      "histogram.</p>\n",
      escapeHtml(num(data.privacy.epsilon)), data.privacy.sensitivity,
      escapeHtml(data.privacy.release), escapeHtml(num(data.privacy.spent_after)),
      escapeHtml(num(data.privacy.remaining_after)));
  body += "<h3>每日请求 Requests per day (noised)</h3>\n";
  std::vector<std::string> labels;
  std::vector<int64_t> counts(data.day_ms.size(), 0);
  for (int64_t day : data.day_ms) {
    labels.push_back(dayLabel(day));
  }
  for (const VersionSeries& v : data.versions) {
    for (size_t d = 0; d < counts.size() && d < v.requests_per_day.size(); ++d) {
      counts[d] += v.requests_per_day[d];
    }
  }
  body += columnChart(labels, counts, "#0072B2");
  return section("overview", "概览 Overview", body);
}

std::string accuracySection(const ReportData& data) {
  std::string body =
      lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.accuracy; }), "accuracy",
                {}, false);
  std::vector<std::vector<std::string>> rows;
  for (const VersionSeries& v : data.versions) {
    rows.push_back({v.model, v.version, percent(v.mean_accuracy)});
  }
  if (!rows.empty()) {
    body += table({"model", "version", "mean accuracy"}, rows);
  }
  return section("accuracy", "准确率趋势 Accuracy trend", body);
}

std::string latencySection(const ReportData& data) {
  std::string body = "<h3>延迟直方图 Latency histogram (noised)</h3>\n";
  std::vector<std::string> labels;
  labels.reserve(store::kLatencyBucketCount);
  std::vector<int64_t> counts(data.latency_all.begin(), data.latency_all.end());
  for (int b = 0; b < store::kLatencyBucketCount; ++b) {
    labels.push_back(latencyLabel(store::latencyBucketUpperMs(b)));
  }
  body += columnChart(labels, counts, "#009E73");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"all", "", num(data.p50_ms), num(data.p95_ms), num(data.p99_ms)});
  for (const VersionSeries& v : data.versions) {
    rows.push_back({v.model, v.version, num(v.p50_ms), num(v.p95_ms), num(v.p99_ms_hist)});
  }
  body += table({"model", "version", "p50 ms", "p95 ms", "p99 ms"}, rows);
  body += "<h3>P99 延迟趋势 P99 latency trend</h3>\n";
  body += lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.p99_ms; }), "ms",
                    {{500, "warning 500 ms"}, {800, "critical 800 ms"}});
  return section("latency", "延迟分布 Latency distribution", body);
}

std::string hardwareSection(const ReportData& data) {
  std::string body = "<h3>GPU 利用率 GPU utilisation</h3>\n";
  body += lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.gpu_utilization; }),
                    "ratio");
  body += "<h3>KV 缓存 KV cache usage</h3>\n";
  body += lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.kv_cache_usage; }),
                    "ratio");
  std::vector<std::vector<std::string>> rows;
  for (const VersionSeries& v : data.versions) {
    rows.push_back({v.model, v.version, percent(v.mean_gpu_utilization),
                    percent(v.max_gpu_utilization), percent(v.mean_kv_cache_usage),
                    percent(v.max_kv_cache_usage), num(v.mean_queue_length), num(v.mean_replicas)});
  }
  if (!rows.empty()) {
    body += table({"model", "version", "GPU mean", "GPU max", "KV mean", "KV max", "queue mean",
                   "replicas mean"},
                  rows);
  }
  return section("hardware", "硬件利用率 Hardware utilisation", body);
}

std::string anomalySection(const ReportData& data) {
  std::string body;
  if (data.events.empty()) {
    body = noData();
  } else {
    std::vector<std::pair<std::string, int64_t>> bars;
    std::vector<std::string> fills;
    std::vector<std::vector<std::string>> rows;
    for (const EventCount& e : data.events) {
      bars.emplace_back(e.type + " (" + e.severity + ")", e.count);
      fills.push_back(severityColour(e.severity));
      rows.push_back({e.type, e.severity, std::to_string(e.count)});
    }
    body += barChart(bars, fills);
    body += table({"type", "severity", "events (noised)"}, rows);
    body += fmt::format("<p>合计 Total: {} (noised)</p>\n", data.events_total);
  }
  return section("anomalies", "异常事件 Anomaly events by type and severity", body);
}

std::string rolloutSection(const ReportData& data) {
  std::string body;
  if (data.control_events.empty()) {
    body = noData();
  } else {
    body += fmt::format("<p>发布 Rollouts: {} &middot; 回滚 Rollbacks: {}</p>\n", data.rollouts,
                        data.rollbacks);
    std::vector<std::vector<std::string>> rows;
    for (const ControlEvent& e : data.control_events) {
      rows.push_back({isoTime(e.at_ms), e.category, e.kind, e.model, e.version, e.actor, e.reason});
    }
    body += table({"time", "category", "kind", "model", "version", "actor", "reason"}, rows);
  }
  return section("rollouts", "发布与回滚 Rollouts and rollbacks", body);
}

std::string experimentSection(const ReportData& data) {
  std::string body;
  if (data.experiments.empty()) {
    body = noData();
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const Experiment& e : data.experiments) {
      std::string arms;
      for (const std::string& arm : e.arms) {
        arms += (arms.empty() ? "" : ", ") + arm;
      }
      rows.push_back(
          {e.name, arms, e.decision, e.winner.empty() ? "-" : e.winner,
           fmt::format("{} [{}, {}]", num(e.score_diff), num(e.ci_low), num(e.ci_high))});
    }
    body += table({"experiment", "arms", "decision", "winner", "score diff [95% CI]"}, rows);
  }
  return section("experiments", "A/B 实验 Experiments and verdicts", body);
}

std::string driftSection(const ReportData& data) {
  std::string body = "<h3>输入 KL 散度 Input KL divergence (max over features)</h3>\n";
  body += lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.kl_max; }), "KL",
                    {{0.3, "warning 0.3"}, {0.5, "critical 0.5"}});
  body += "<h3>标签 PSI Label PSI</h3>\n";
  body += lineChart(data, linesOf(data, [](const VersionSeries& v) { return v.label_psi; }), "PSI");
  std::vector<std::vector<std::string>> rows;
  for (const VersionSeries& v : data.versions) {
    rows.push_back({v.model, v.version, num(v.max_kl), std::to_string(v.minutes_kl_warning),
                    std::to_string(v.minutes_kl_critical), num(v.max_label_psi)});
  }
  if (!rows.empty()) {
    body += table(
        {"model", "version", "max KL", "minutes KL >= 0.3", "minutes KL >= 0.5", "max label PSI"},
        rows);
  }
  return section("drift", "数据漂移 Drift", body);
}

std::string deltaSection(const ReportData& data) {
  std::vector<std::vector<std::string>> rows;
  bool any = false;
  for (const Delta& d : data.deltas) {
    any = any || !std::isnan(d.current) || !std::isnan(d.previous);
    rows.push_back({d.name + (d.unit.empty() ? "" : " (" + d.unit + ")"), num(d.current),
                    num(d.previous),
                    std::isnan(d.change) ? "n/a" : fmt::format("{:+.1f}%", d.change * 100),
                    d.noised ? "yes" : "no"});
  }
  std::string body = any ? "" : noData();
  body += table({"metric", "this period", "previous period", "change", "noised"}, rows);
  return section("deltas", "周环比 Week-over-week deltas", body);
}

std::string capacitySection(const ReportData& data) {
  std::string body;
  if (data.capacity.empty()) {
    body = noData();
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const CapacityRecommendation& c : data.capacity) {
      rows.push_back(
          {c.model, num(c.peak_qps), num(c.per_replica_qps) + " (" + c.per_replica_source + ")",
           percent(c.headroom), num(c.current_replicas), std::to_string(c.recommended_replicas)});
    }
    body += table({"model", "peak QPS (p99)", "QPS per replica", "headroom", "max replicas seen",
                   "recommended replicas"},
                  rows);
    for (const CapacityRecommendation& c : data.capacity) {
      body += "<p class=\"note\">" + escapeHtml(c.model + ": " + c.explanation) + "</p>\n";
    }
  }
  return section("capacity", "容量建议 Capacity recommendation (30% headroom)", body);
}

nlohmann::json numbers(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) {
    out.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
  }
  return out;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

}  // namespace

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string renderHtml(const ReportData& data) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += fmt::format("<title>deepwatch 周报 Weekly report {} &ndash; {}</title>\n",
                      escapeHtml(isoTime(data.from_ms).substr(0, 10)),
                      escapeHtml(isoTime(data.to_ms).substr(0, 10)));
  html += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  html += fmt::format(
      "<h1>deepwatch 每周优化报告 Weekly optimization report</h1>\n"
      "<p class=\"note\">Generated {}</p>\n",
      escapeHtml(isoTime(data.generated_ms)));
  html += overviewSection(data);
  html += accuracySection(data);
  html += latencySection(data);
  html += hardwareSection(data);
  html += anomalySection(data);
  html += rolloutSection(data);
  html += experimentSection(data);
  html += driftSection(data);
  html += deltaSection(data);
  html += capacitySection(data);
  html += "</body>\n</html>\n";
  return html;
}

nlohmann::json toJson(const ReportData& data) {
  nlohmann::json j;
  j["period"] = {{"from", isoTime(data.from_ms)},
                 {"to", isoTime(data.to_ms)},
                 {"from_ms", data.from_ms},
                 {"to_ms", data.to_ms},
                 {"previous_from", isoTime(data.previous_from_ms)},
                 {"previous_to", isoTime(data.previous_to_ms)}};
  j["generated_at"] = isoTime(data.generated_ms);
  j["privacy"] = {
      {"mechanism", "discrete Laplace (security/dp_noise.h)"},
      {"release", data.privacy.release},
      {"epsilon", data.privacy.epsilon},
      {"sensitivity", data.privacy.sensitivity},
      {"scale", data.privacy.epsilon > 0
                    ? static_cast<double>(data.privacy.sensitivity) / data.privacy.epsilon
                    : 0.0},
      {"budget_spent", data.privacy.spent_after},
      {"budget_remaining", data.privacy.remaining_after},
      {"noised", data.privacy.noised},
      {"not_noised", data.privacy.not_noised},
      {"negative_noised_counts", "clamped at 0"}};
  nlohmann::json grid = nlohmann::json::array();
  for (int64_t t : data.grid_ms) {
    grid.push_back(isoTime(t));
  }
  nlohmann::json days = nlohmann::json::array();
  for (int64_t t : data.day_ms) {
    days.push_back(isoTime(t));
  }
  j["grid"] = {{"step_ms", data.step_ms}, {"points", grid}};

  nlohmann::json traffic = nlohmann::json::array();
  nlohmann::json accuracy = nlohmann::json::array();
  nlohmann::json latency_versions = nlohmann::json::array();
  nlohmann::json hardware = nlohmann::json::array();
  nlohmann::json drift = nlohmann::json::array();
  for (const VersionSeries& v : data.versions) {
    traffic.push_back({{"model", v.model},
                       {"version", v.version},
                       {"requests_per_day", v.requests_per_day},
                       {"errors_per_day", v.errors_per_day},
                       {"qps", numbers(v.qps)}});
    accuracy.push_back({{"model", v.model},
                        {"version", v.version},
                        {"mean", number(v.mean_accuracy)},
                        {"accuracy", numbers(v.accuracy)},
                        {"mean_confidence", numbers(v.mean_confidence)},
                        {"abnormal_ratio", numbers(v.abnormal_ratio)}});
    latency_versions.push_back({{"model", v.model},
                                {"version", v.version},
                                {"histogram", v.latency},
                                {"p50_ms", number(v.p50_ms)},
                                {"p95_ms", number(v.p95_ms)},
                                {"p99_ms", number(v.p99_ms_hist)},
                                {"p99_trend_ms", numbers(v.p99_ms)},
                                {"ttft_p99_trend_ms", numbers(v.ttft_p99_ms)}});
    hardware.push_back({{"model", v.model},
                        {"version", v.version},
                        {"gpu_utilization", numbers(v.gpu_utilization)},
                        {"kv_cache_usage", numbers(v.kv_cache_usage)},
                        {"queue_length", numbers(v.queue_length)},
                        {"replicas", numbers(v.replicas)},
                        {"mean_gpu_utilization", number(v.mean_gpu_utilization)},
                        {"max_gpu_utilization", number(v.max_gpu_utilization)},
                        {"mean_kv_cache_usage", number(v.mean_kv_cache_usage)},
                        {"max_kv_cache_usage", number(v.max_kv_cache_usage)},
                        {"mean_queue_length", number(v.mean_queue_length)},
                        {"mean_replicas", number(v.mean_replicas)}});
    drift.push_back({{"model", v.model},
                     {"version", v.version},
                     {"kl_max", numbers(v.kl_max)},
                     {"label_psi", numbers(v.label_psi)},
                     {"max_kl", number(v.max_kl)},
                     {"max_label_psi", number(v.max_label_psi)},
                     {"minutes", v.minutes},
                     {"minutes_kl_warning", v.minutes_kl_warning},
                     {"minutes_kl_critical", v.minutes_kl_critical}});
  }
  j["traffic"] = {{"days", days}, {"by_version", traffic}};
  j["accuracy_trend"] = accuracy;
  nlohmann::json bounds = nlohmann::json::array();
  for (int b = 0; b < store::kLatencyBucketCount; ++b) {
    bounds.push_back(number(store::latencyBucketUpperMs(b)));
  }
  j["latency"] = {{"bucket_upper_ms", bounds},     {"histogram", data.latency_all},
                  {"p50_ms", number(data.p50_ms)}, {"p95_ms", number(data.p95_ms)},
                  {"p99_ms", number(data.p99_ms)}, {"by_version", latency_versions}};
  j["hardware"] = hardware;
  nlohmann::json by_type = nlohmann::json::array();
  for (const EventCount& e : data.events) {
    by_type.push_back({{"type", e.type}, {"severity", e.severity}, {"count", e.count}});
  }
  j["anomalies"] = {{"total", data.events_total}, {"by_type", by_type}};
  nlohmann::json events = nlohmann::json::array();
  for (const ControlEvent& e : data.control_events) {
    events.push_back({{"at", isoTime(e.at_ms)},
                      {"kind", e.kind},
                      {"category", e.category},
                      {"model", e.model},
                      {"version", e.version},
                      {"actor", e.actor},
                      {"reason", e.reason}});
  }
  j["rollouts"] = {{"rollouts", data.rollouts}, {"rollbacks", data.rollbacks}, {"events", events}};
  nlohmann::json experiments = nlohmann::json::array();
  for (const Experiment& e : data.experiments) {
    experiments.push_back({{"name", e.name},
                           {"arms", e.arms},
                           {"decision", e.decision},
                           {"winner", e.winner},
                           {"score_diff", number(e.score_diff)},
                           {"ci", {number(e.ci_low), number(e.ci_high)}}});
  }
  j["experiments"] = experiments;
  j["drift"] = drift;
  nlohmann::json deltas = nlohmann::json::array();
  for (const Delta& d : data.deltas) {
    deltas.push_back({{"name", d.name},
                      {"unit", d.unit},
                      {"current", number(d.current)},
                      {"previous", number(d.previous)},
                      {"change", number(d.change)},
                      {"noised", d.noised}});
  }
  j["week_over_week"] = deltas;
  nlohmann::json capacity = nlohmann::json::array();
  for (const CapacityRecommendation& c : data.capacity) {
    capacity.push_back({{"model", c.model},
                        {"peak_qps", c.peak_qps},
                        {"per_replica_qps", c.per_replica_qps},
                        {"per_replica_source", c.per_replica_source},
                        {"headroom", c.headroom},
                        {"current_replicas", c.current_replicas},
                        {"recommended_replicas", c.recommended_replicas},
                        {"formula", "ceil(peak_qps / per_replica_qps / (1 - headroom))"},
                        {"explanation", c.explanation}});
  }
  j["capacity"] = capacity;
  return j;
}

}  // namespace dw::report
