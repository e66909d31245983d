// `deepwatch report`: the weekly optimization report (R6) as one self-contained HTML file and the
// same data as JSON, read from the state directory's SQLite database (metrics history, control
// events, alert events), with its counts noised and paid for from the privacy ledger (R7).
//
//   deepwatch report [--state-dir var] [--from ISO --to ISO] [-o report.html] [--json F]
//                    [--epsilon 1.0] [--budget 3.0] [--target-qps N] [--experiments F]
//
// The default period is the last full week: the previous Monday 00:00 UTC to this Monday.
// `--seed-demo-data` (for demos and tests) writes a synthetic history of the period and the
// week before it into the database instead of rendering.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "store/database.h"

namespace dw::app {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

struct ReportFlags {
  std::string state_dir = "var";
  std::string from;
  std::string to;
  std::string output = "report.html";
  std::string json;
  std::string experiments;
  double epsilon = 1.0;
  double budget = 3.0;
  double target_qps = 0;
  bool seed_demo_data = false;
};

int64_t nowMs() {
  std::timespec ts{};
  std::timespec_get(&ts, TIME_UTC);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// "2026-03-02", "2026-03-02T10:00", "2026-03-02T10:00:00Z": UTC.
StatusOr<int64_t> parseIso(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%dT%H:%M", &tm);
  }
  if (end == nullptr) {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (end == nullptr || !(*end == '\0' || (end[0] == 'Z' && end[1] == '\0'))) {
    return invalidArgument("not an ISO-8601 UTC time: '" + text + "' (e.g. 2026-03-02T00:00:00Z)");
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

Status writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return unavailable("cannot write " + path);
  }
  return okStatus();
}

// The experiments file: a JSON array of {name, arms, decision, winner, score_diff, ci: [lo, hi]}.
StatusOr<std::vector<report::Experiment>> readExperiments(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return notFound("cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return invalidArgument(path + ": expected a JSON array of experiments");
  }
  std::vector<report::Experiment> out;
  for (const auto& e : doc) {
    if (!e.is_object()) {
      return invalidArgument(path + ": each experiment must be an object");
    }
    report::Experiment x;
    x.name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
    if (e.contains("arms") && e["arms"].is_array()) {
      for (const auto& arm : e["arms"]) {
        if (arm.is_string()) {
          x.arms.push_back(arm.get<std::string>());
        }
      }
    }
    auto str = [&](const char* key) {
      return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : std::string();
    };
    auto real = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : 0.0; };
    x.decision = str("decision");
    x.winner = str("winner");
    x.score_diff = e.contains("score_diff") ? real(e["score_diff"]) : 0;
    if (e.contains("ci") && e["ci"].is_array() && e["ci"].size() == 2) {
      x.ci_low = real(e["ci"][0]);
      x.ci_high = real(e["ci"][1]);
    }
    out.push_back(std::move(x));
  }
  return out;
}

int fail(const Status& status) {
  std::fprintf(stderr, "deepwatch report: %s\n", status.message().c_str());
  return 1;
}

int runReport(const ReportFlags& flags) {
  const int64_t now = nowMs();
  int64_t to_ms = report::mondayAtOrBefore(now);
  int64_t from_ms = to_ms - 7 * kDayMs;
  if (!flags.to.empty()) {
    auto to = parseIso(flags.to);
    if (!to.ok()) {
      return fail(to.status());
    }
    to_ms = *to;
  }
  if (!flags.from.empty()) {
    auto from = parseIso(flags.from);
    if (!from.ok()) {
      return fail(from.status());
    }
    from_ms = *from;
  } else if (!flags.to.empty()) {
    from_ms = to_ms - 7 * kDayMs;
  }
  auto db = store::Database::open(flags.state_dir + "/deepwatch.db");
  if (!db.ok()) {
    return fail(db.status());
  }
  if (flags.seed_demo_data) {
    // The period and the week before it, so that the week-over-week deltas have data.
    Status seeded = report::seedDemoData(**db, from_ms - (to_ms - from_ms), to_ms, 42);
    if (!seeded.ok()) {
      return fail(seeded);
    }
    std::printf("seeded %s to %s into %s\n", report::isoTime(from_ms - (to_ms - from_ms)).c_str(),
                report::isoTime(to_ms).c_str(), (*db)->path().c_str());
    return 0;
  }
  report::ReportOptions options;
  options.epsilon = flags.epsilon;
  options.budget = flags.budget;
  options.now_ms = now;
  options.target_qps_per_replica = flags.target_qps;
  if (!flags.experiments.empty()) {
    auto experiments = readExperiments(flags.experiments);
    if (!experiments.ok()) {
      return fail(experiments.status());
    }
    options.experiments = std::move(experiments).value();
  }
  auto data = report::collectReport(**db, from_ms, to_ms, options);
  if (!data.ok()) {
    return fail(data.status());
  }
  Status written = writeFile(flags.output, report::renderHtml(*data));
  if (written.ok() && !flags.json.empty()) {
    written = writeFile(flags.json, report::toJson(*data).dump(2) + "\n");
  }
  if (!written.ok()) {
    return fail(written);
  }
  std::printf("report %s to %s: %s%s%s (epsilon %.6g spent on %s, %.6g left)\n",
              report::isoTime(from_ms).c_str(), report::isoTime(to_ms).c_str(),
              flags.output.c_str(), flags.json.empty() ? "" : ", ", flags.json.c_str(),
              data->privacy.epsilon, data->privacy.release.c_str(), data->privacy.remaining_after);
  return 0;
}

}  // namespace

void addReportCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand("report", "The weekly optimization report (HTML + JSON)");
  report->add_option("--state-dir", flags->state_dir, "The gateway's state directory")
      ->capture_default_str();
  report->add_option("--from", flags->from,
                     "Start, ISO-8601 UTC (default: the previous Monday 00:00 UTC)");
  report->add_option("--to", flags->to, "End, exclusive (default: this Monday 00:00 UTC)");
  report->add_option("-o,--output", flags->output, "The HTML file")->capture_default_str();
  report->add_option("--json", flags->json, "Also write the data as JSON to this file");
  report->add_option("--epsilon", flags->epsilon, "Differential privacy epsilon of the release")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1e6));
  report
      ->add_option("--budget", flags->budget,
                   "Privacy budget of a report period, when none is set in the ledger")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  report
      ->add_option("--target-qps", flags->target_qps,
                   "Per-replica capacity for the recommendation (default: measured)")
      ->check(CLI::Range(0.0, 1e9));
  report->add_option("--experiments", flags->experiments,
                     "A JSON file with the experiments and their verdicts");
  // Hidden (empty group): for demos and tests only.
  report
      ->add_flag("--seed-demo-data", flags->seed_demo_data,
                 "Write a synthetic history of the period into the database, then exit")
      ->group("");
  report->callback([flags, action] { *action = [flags] { return runReport(*flags); }; });
}

}  // namespace dw::app
