// `deepwatch drill`: the full-chain drill of R10 against a deployment (the local demo fleet by
// default, or one started by the drill with --start-demo): a staged load, then each fault in
// turn, measured against the budgets of R5 and R10; a JSON and an HTML report; exit status 0
// when every budget is met, 1 when one is missed, 2 when the drill cannot run.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "app/admin_key.h"
#include "app/commands.h"
#include "app/drill_demo.h"
#include "control/drill/alert_sink.h"
#include "control/drill/drill_html.h"
#include "control/drill/drill_runner.h"

namespace dw::app {
namespace {

using control::drill::AlertSink;
using control::drill::DrillOptions;

struct DrillFlags {
  std::string gateway = "http://127.0.0.1:8080";
  std::string admin = "http://127.0.0.1:9090";
  std::string key;
  std::string api_key;
  std::string model = "fortune";
  double qps = 0;
  std::string ramp;
  std::string hold;
  std::string faults = "all";
  std::string out = "drill-out";
  std::string latency = "1500ms";
  bool short_drill = false;
  bool start_demo = false;
  std::string demo_config = "examples/local.yaml";
  int port_base = 0;
  int sink_port = 0;
  std::string sink_name = "drill";
};

int usage(const std::string& message) {
  std::fprintf(stderr, "deepwatch drill: %s\n", message.c_str());
  return 2;
}

int runDrill(const DrillFlags& flags) {
  DrillOptions options;
  auto faults = control::drill::parseFaults(flags.faults);
  if (!faults.ok()) {
    return usage(faults.status().message());
  }
  options.faults = *faults;
  options.model = flags.model;
  options.short_drill = flags.short_drill;
  options.qps = flags.qps > 0 ? flags.qps : flags.short_drill ? 8 : 10;
  const std::string ramp = !flags.ramp.empty() ? flags.ramp : flags.short_drill ? "5s" : "30s";
  const std::string hold = !flags.hold.empty() ? flags.hold : flags.short_drill ? "10s" : "60s";
  auto ramp_d = parseDuration(ramp);
  auto hold_d = parseDuration(hold);
  auto latency = parseDuration(flags.latency);
  if (!ramp_d.ok() || !hold_d.ok() || !latency.ok()) {
    return usage(!ramp_d.ok()   ? "--ramp: " + ramp_d.status().message()
                 : !hold_d.ok() ? "--hold: " + hold_d.status().message()
                                : "--latency: " + latency.status().message());
  }
  options.ramp = *ramp_d;
  options.hold = *hold_d;
  options.latency = *latency;
  options.api_key = flags.api_key;
  options.sink_name = flags.sink_name;
  options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };

  std::error_code ec;
  std::filesystem::create_directories(flags.out, ec);
  if (ec) {
    return usage("cannot create " + flags.out + ": " + ec.message());
  }
  // The sink outage needs a sink the drill controls: its own, which the demo it starts sends
  // to, or one on --sink-port that the deployment was configured with.
  AlertSink sink;
  DemoFleet demo;
  if (flags.start_demo || flags.sink_port > 0) {
    if (Status s = sink.start(static_cast<uint16_t>(flags.sink_port)); !s.ok()) {
      return usage("cannot listen for alerts: " + s.message());
    }
    options.own_sink = true;
  }
  if (flags.start_demo) {
    DemoOptions demo_options;
    demo_options.config = flags.demo_config;
    demo_options.dir = flags.out + "/demo";
    demo_options.sink_port = sink.port();
    demo_options.port_base = flags.port_base;
    demo_options.short_drill = flags.short_drill;
    std::fprintf(stderr, "deepwatch drill: starting the demo fleet of %s in %s\n",
                 flags.demo_config.c_str(), demo_options.dir.c_str());
    if (Status s = demo.start(demo_options); !s.ok()) {
      return usage(s.message());
    }
    options.gateway = demo.api();
    options.admin = demo.admin();
    options.admin_key = demo.adminKey();
  } else {
    options.gateway = flags.gateway;
    options.admin = flags.admin;
    options.admin_key = adminKey(flags.key);
  }

  control::drill::Drill drill(options, options.own_sink ? &sink : nullptr);
  auto report = drill.run();
  demo.stop();
  sink.stop();
  if (!report.ok()) {
    return usage(report.status().message());
  }
  const std::string json_path = flags.out + "/drill.json";
  const std::string html_path = flags.out + "/drill.html";
  std::ofstream(json_path) << control::drill::toJson(*report).dump(2) << "\n";
  std::ofstream(html_path) << control::drill::renderDrillHtml(*report);
  for (const auto& check : report->checks) {
    std::string measured = "-";
    if (check.measured) {
      measured = check.unit == "ratio" ? fmt::format("{:.4f}%", *check.measured * 100)
                                       : fmt::format("{:.1f} s", *check.measured);
    }
    std::printf("%-4s %-26s %12s  %s\n", check.passed ? "ok" : "FAIL", check.name.c_str(),
                measured.c_str(), check.note.c_str());
  }
  std::printf("%s: report in %s and %s\n", report->passed ? "PASS" : "FAIL", json_path.c_str(),
              html_path.c_str());
  return report->passed ? 0 : 1;
}

}  // namespace

void addDrillCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<DrillFlags>();
  CLI::App* drill = app.add_subcommand(
      "drill", "Full-chain drill (R10): staged load, then faults one at a time, against budgets");
  drill->add_option("--gateway", flags->gateway, "The API listener")->capture_default_str();
  drill->add_option("--admin", flags->admin, "The admin listener")->capture_default_str();
  addKeyOption(drill, &flags->key);
  drill->add_option("--api-key", flags->api_key,
                    "Key for the traffic (default: a temporary client key, revoked after)");
  drill->add_option("--model", flags->model, "The model to drill")->capture_default_str();
  drill->add_option("--qps", flags->qps, "Target requests per second (default 10; short 8)")
      ->check(CLI::PositiveNumber);
  drill->add_option("--ramp", flags->ramp, "Ramp to the target rate over this (30s; short 5s)");
  drill->add_option("--hold", flags->hold, "Hold the rate before the faults (60s; short 10s)");
  drill
      ->add_option("--faults", flags->faults,
                   "all, or a comma list of replica-crash, primaries-down, replica-latency, "
                   "degraded-quality, input-drift, sink-outage")
      ->capture_default_str();
  drill->add_option("--latency", flags->latency, "Latency added on a replica")
      ->capture_default_str();
  drill->add_option("--out", flags->out, "Folder for drill.json, drill.html (and the demo)")
      ->capture_default_str();
  drill->add_flag("--short", flags->short_drill,
                  "A short drill (CI): low rate, short stages and waits; with --start-demo also "
                  "short detection windows");
  drill->add_flag("--start-demo", flags->start_demo,
                  "Start the demo fleet (--demo-config) in OUT/demo and drill it");
  drill->add_option("--demo-config", flags->demo_config, "The demo fleet's configuration")
      ->capture_default_str();
  drill
      ->add_option("--port-base", flags->port_base,
                   "With --start-demo: move the launched replicas' ports to start here")
      ->check(CLI::Range(1024, 60000));
  drill
      ->add_option("--sink-port", flags->sink_port,
                   "Listen for the deployment's alerts here (an alertmanager sink it was "
                   "configured with), for the sink outage")
      ->check(CLI::Range(1, 65535));
  drill->add_option("--sink-name", flags->sink_name, "That sink's name in its configuration")
      ->capture_default_str();
  drill->callback([flags, action] { *action = [flags] { return runDrill(*flags); }; });
}

}  // namespace dw::app
