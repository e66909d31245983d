// `deepwatch serve -c FILE`: the gateway.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "app/commands.h"
#include "app/process.h"
#include "base/log.h"
#include "control/controller.h"
#include "detect/alerting.h"
#include "gateway/gateway.h"

namespace dw::app {
namespace {

struct ServeFlags {
  std::string config;
  std::string port_file;
  std::string admin_port_file;
  bool check = false;
};

int runServe(const ServeFlags& flags) {
  auto config = gateway::loadGatewayConfig(flags.config);
  if (!config.ok()) {
    std::fprintf(stderr, "deepwatch serve: %s\n", config.status().message().c_str());
    return 2;
  }
  auto alerting_config = detect::parseAlertingConfig(config->alerting, config->file);
  if (!alerting_config.ok()) {
    std::fprintf(stderr, "deepwatch serve: %s\n", alerting_config.status().message().c_str());
    return 2;
  }
  auto control_config = control::parseControlConfig(config->control, config->file);
  if (!control_config.ok()) {
    std::fprintf(stderr, "deepwatch serve: %s\n", control_config.status().message().c_str());
    return 2;
  }
  if (flags.check) {
    std::printf("%s: valid (%zu models, %zu alerting rules configured)\n", flags.config.c_str(),
                config->models.size(), alerting_config->rules.size());
    return 0;
  }
  const std::string ns = config->observe.ns;
  const std::string first_window = formatDuration(config->observe.windows.front());
  const Duration granularity = config->observe.granularity;
  if (config->limits.max_connections > 0) {
    // Each client connection may hold one upstream connection, plus files and the admin API.
    const uint64_t wanted = 2 * static_cast<uint64_t>(config->limits.max_connections) + 1024;
    const uint64_t files = raiseFileLimit(wanted);
    if (files < wanted) {
      DW_LOG_WARN(
          "the open-file limit is {} (hard limit); limits.max_connections {} needs about {}", files,
          config->limits.max_connections, wanted);
    }
  }
  blockSignals();
  auto gateway = gateway::Gateway::create(std::move(config).value());
  if (!gateway.ok()) {
    std::fprintf(stderr, "deepwatch serve: %s\n", gateway.status().toString().c_str());
    return 1;
  }
  gateway::Gateway& gw = **gateway;
  auto alerting = detect::Alerting::create(std::move(alerting_config).value(), ns, first_window,
                                           granularity, gw.database());
  if (!alerting.ok()) {
    std::fprintf(stderr, "deepwatch serve: %s\n", alerting.status().toString().c_str());
    return 2;
  }
  detect::Alerting& alerts = **alerting;
  // Detection runs on the control thread right after each tick's merge (R2), on what /metrics
  // shows; its state is listed under /admin/v1/alerts and exported beside the rest.
  bool dispatching = false;
  gw.addTickHook([&gw, &alerts, &dispatching](std::chrono::system_clock::time_point now) {
    if (!dispatching) {
      alerts.start(gw.controlContext());
      dispatching = true;
    }
    alerts.evaluate(gw.metricsText(), now);
  });
  gw.addAdminRoute(
      "/admin/v1/alerts", [&alerts](const net::Request& request, const gateway::AdminCaller&) {
        std::string_view target = request.target();
        int limit = 100;
        if (size_t q = target.find("history="); q != std::string_view::npos) {
          limit = std::clamp(std::atoi(std::string(target.substr(q + 8)).c_str()), 0, 10000);
        }
        return gateway::Gateway::AdminReply{200, alerts.alertsJson(limit)};
      });
  gw.addMetricsSource([&alerts, ns](observe::ExpositionWriter& w) { alerts.writeMetrics(w, ns); });
  // The maintenance controller (R3-R5) acts on what detection and observation report.
  std::unique_ptr<control::Controller> controller;
  if (control_config->enabled) {
    auto created = control::Controller::create(std::move(control_config).value(), gw);
    if (!created.ok()) {
      std::fprintf(stderr, "deepwatch serve: %s\n", created.status().toString().c_str());
      return 2;
    }
    controller = std::move(created).value();
    controller->setCriticalAlertCheck(
        [&alerts](const std::string& model, const std::string& version) {
          return alerts.criticalFiring(model, version);
        });
    controller->attach();
  }
  gw.start();
  DW_LOG_INFO("gateway listening: api on port {}, admin on port {}", (*gateway)->apiPort(),
              (*gateway)->adminPort());
  for (const auto& [path, port] : {std::pair{flags.port_file, (*gateway)->apiPort()},
                                   std::pair{flags.admin_port_file, (*gateway)->adminPort()}}) {
    if (path.empty()) {
      continue;
    }
    if (Status status = writePortFile(path, port); !status.ok()) {
      DW_LOG_ERROR("{}", status.toString());
      (*gateway)->stop();
      return 1;
    }
  }
  for (;;) {
    const int signal = waitForSignal();
    if (signal == SIGHUP) {
      Status status = (*gateway)->reload();
      security::AuditRecord record;  // R8: a reload by signal is an operation too.
      record.actor = "SIGHUP";
      record.actor_kind = security::ActorKind::kSystem;
      record.operation = "config_reload";
      record.target = "config";
      record.rbac_reason = "a signal from the host";
      record.outcome =
          status.ok() ? security::AuditOutcome::kSuccess : security::AuditOutcome::kFailure;
      (void)(*gateway)->audit().record(record);
      if (status.ok()) {
        DW_LOG_INFO("SIGHUP: configuration reloaded");
      } else {
        DW_LOG_ERROR("SIGHUP: keeping the running configuration: {}", status.message());
      }
      continue;
    }
    DW_LOG_INFO("signal {}: draining", signal);
    (*gateway)->stop();
    alerts.stop();
    if (controller) {
      controller->stopProcesses();
    }
    DW_LOG_INFO("drained; exiting");
    return 0;
  }
}

}  // namespace

void addServeCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve =
      app.add_subcommand("serve", "Run the gateway in front of OpenAI-compatible model servers");
  serve->add_option("-c,--config", flags->config, "The configuration file (YAML)")->required();
  serve->add_option("--port-file", flags->port_file,
                    "Write the API listener's port to this file (for port 0)");
  serve->add_option("--admin-port-file", flags->admin_port_file,
                    "Write the admin listener's port to this file");
  serve->add_flag("--check", flags->check, "Validate the configuration and exit");
  serve->callback([flags, action] { *action = [flags] { return runServe(*flags); }; });
}

}  // namespace dw::app
