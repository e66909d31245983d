#include "control/report_scheduler.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/log.h"
#include "net/json_error.h"
#include "report/report_data.h"
#include "report/report_html.h"

namespace dw::control {

namespace {

using json = nlohmann::json;
constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;
constexpr int64_t kSettleMs = 10LL * 60 * 1000;

gateway::Gateway::AdminReply error(const Status& status) {
  return {httpStatusFor(status.code()),
          net::openAiErrorJson(status.message(), "invalid_request_error", "", "")};
}

Status writeFile(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      return unavailable("cannot write " + temp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  return ec ? unavailable("cannot write " + path) : okStatus();
}

}  // namespace

StatusOr<std::unique_ptr<ReportScheduler>> ReportScheduler::create(gateway::Gateway& gateway) {
  DW_RETURN_IF_ERROR(gateway.database().exec(
      "CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL,"
      " to_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, trigger TEXT NOT NULL,"
      " html TEXT NOT NULL, json TEXT NOT NULL)"));
  return std::unique_ptr<ReportScheduler>(new ReportScheduler(gateway));
}

StatusOr<std::string> ReportScheduler::render(int64_t from_ms, int64_t to_ms,
                                              const std::string& trigger) {
  const gateway::GatewayConfig& config = gateway_.config();
  report::ReportOptions options;
  options.epsilon = config.security.privacy.epsilon;
  options.budget = config.security.privacy.budget;
  options.now_ms = wallClockMs();
  if (experiments_) {
    options.experiments = experiments_(from_ms, to_ms);
  }
  DW_ASSIGN_OR_RETURN(report::ReportData data,
                      report::collectReport(gateway_.database(), from_ms, to_ms, options));
  const std::string id =
      report::isoTime(from_ms).substr(0, 10) + "_" + report::isoTime(to_ms).substr(0, 10);
  const std::filesystem::path dir = std::filesystem::path(config.state_dir) / "reports";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string html = (dir / ("report-" + id + ".html")).string();
  const std::string json_path = (dir / ("report-" + id + ".json")).string();
  DW_RETURN_IF_ERROR(writeFile(html, report::renderHtml(data)));
  DW_RETURN_IF_ERROR(writeFile(json_path, report::toJson(data).dump(2)));
  DW_ASSIGN_OR_RETURN(
      store::Statement s,
      gateway_.database().prepare(
          "INSERT INTO reports (id, from_ms, to_ms, created_ms, trigger, html, json)"
          " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
          " created_ms = excluded.created_ms, trigger = excluded.trigger"));
  s.bind(1, id).bind(2, from_ms).bind(3, to_ms).bind(4, wallClockMs()).bind(5, trigger);
  s.bind(6, html).bind(7, json_path);
  DW_RETURN_IF_ERROR(s.run());
  DW_LOG_WARN("report {} written to {} ({})", id, html, trigger);
  return id;
}

void ReportScheduler::tick(std::chrono::system_clock::time_point now) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t monday = report::mondayAtOrBefore(ms);
  if (monday == last_checked_week_ || ms < monday + kSettleMs) {
    return;
  }
  last_checked_week_ = monday;
  auto existing = gateway_.database().prepare("SELECT 1 FROM reports WHERE to_ms = ?");
  if (existing.ok()) {
    existing->bind(1, monday);
    if (auto row = existing->step(); row.ok() && *row) {
      return;  // Already rendered (by an earlier run of this process or by hand).
    }
  }
  if (auto id = render(monday - kWeekMs, monday, "weekly"); !id.ok()) {
    DW_LOG_ERROR("weekly report: {}", id.status().message());
  }
}

gateway::Gateway::AdminReply ReportScheduler::handle(const net::Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view id = path.substr(std::string_view("/admin/v1/reports").size());
  if (!id.empty() && id.front() == '/') {
    id.remove_prefix(1);
  }
  if (request.method() == net::http::verb::post && id.empty()) {
    json body =
        request.body().empty() ? json::object() : json::parse(request.body(), nullptr, false);
    if (!body.is_object()) {
      return error(invalidArgument("the body must be a JSON object"));
    }
    const int64_t to = body.value("to", report::mondayAtOrBefore(wallClockMs()));
    const int64_t from = body.value("from", to - kWeekMs);
    if (from >= to) {
      return error(invalidArgument("'from' must be before 'to' (Unix ms)"));
    }
    auto rendered = render(from, to, "by hand");
    if (!rendered.ok()) {
      return error(rendered.status());
    }
    return {200, json{{"id", *rendered}}.dump()};
  }
  auto statement = gateway_.database().prepare(
      id.empty() ? "SELECT id, from_ms, to_ms, created_ms, trigger, html, json FROM reports"
                   " ORDER BY from_ms DESC"
                 : "SELECT id, from_ms, to_ms, created_ms, trigger, html, json FROM reports"
                   " WHERE id = ?");
  if (!statement.ok()) {
    return error(statement.status());
  }
  if (!id.empty()) {
    statement->bind(1, id);
  }
  json list = json::array();
  for (;;) {
    auto row = statement->step();
    if (!row.ok()) {
      return error(row.status());
    }
    if (!*row) {
      break;
    }
    list.push_back({{"id", statement->text(0)},
                    {"from_ms", statement->integer(1)},
                    {"to_ms", statement->integer(2)},
                    {"created_ms", statement->integer(3)},
                    {"trigger", statement->text(4)},
                    {"html", statement->text(5)},
                    {"json", statement->text(6)}});
  }
  if (id.empty()) {
    return {200, json{{"reports", list}}.dump()};
  }
  if (list.empty()) {
    return error(notFound(fmt::format("no report '{}'", id)));
  }
  std::ifstream in(list[0]["json"].get<std::string>());
  json report = json::parse(in, nullptr, false);
  list[0]["report"] = report.is_discarded() ? json(nullptr) : report;
  return {200, list[0].dump()};
}

}  // namespace dw::control
