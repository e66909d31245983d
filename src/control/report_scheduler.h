// The weekly report, run by the gateway itself (R6): every Monday (10 minutes after 00:00 UTC, so
// the last minute's rollups are in) it renders the previous week with report/ into
// `<state_dir>/reports/report-<from>.{html,json}` and records it; `GET /admin/v1/reports` lists
// the stored reports, `GET /admin/v1/reports/{id}` returns one's JSON, and
// `POST /admin/v1/reports {"from"?, "to"?}` (Unix ms) renders one now.
//
// Thread contract: the control thread (ticks and admin routes run there).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "gateway/gateway.h"
#include "report/report_data.h"
#include "security/security_config.h"
#include "store/database.h"

namespace dw::control {

class ReportScheduler {
 public:
  static StatusOr<std::unique_ptr<ReportScheduler>> create(gateway::Gateway& gateway);

  void tick(std::chrono::system_clock::time_point now);
  // Where the report's experiments section comes from: those that ran in [from_ms, to_ms).
  using ExperimentSource = std::function<std::vector<report::Experiment>(int64_t, int64_t)>;
  void setExperimentSource(ExperimentSource source) { experiments_ = std::move(source); }
  gateway::Gateway::AdminReply handle(const net::Request& request);

 private:
  explicit ReportScheduler(gateway::Gateway& gateway) : gateway_(gateway) {}
  // Renders [from_ms, to_ms) and records it; the report's id.
  StatusOr<std::string> render(int64_t from_ms, int64_t to_ms, const std::string& trigger);

  gateway::Gateway& gateway_;
  int64_t last_checked_week_ = 0;
  ExperimentSource experiments_;
};

}  // namespace dw::control
