// `deepwatch alerts`: active alerts and their recent history, from the admin API.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/admin_key.h"
#include "app/commands.h"
#include "net/http_client.h"

namespace dw::app {
namespace {

struct AlertsFlags {
  std::string admin = "http://127.0.0.1:9090";
  int history = 20;
  bool json = false;
  std::string key;
};

int runAlerts(const AlertsFlags& flags) {
  auto answer = net::httpCall(
      "GET", flags.admin + "/admin/v1/alerts?history=" + std::to_string(flags.history), "",
      std::chrono::seconds(10), adminKey(flags.key));
  if (!answer.ok()) {
    std::fprintf(stderr, "deepwatch alerts: %s\n", answer.status().message().c_str());
    return 1;
  }
  if (answer->status != 200) {
    std::fprintf(stderr, "deepwatch alerts: HTTP %d: %s\n", answer->status, answer->body.c_str());
    return 1;
  }
  if (flags.json) {
    std::printf("%s\n", answer->body.c_str());
    return 0;
  }
  auto body = nlohmann::json::parse(answer->body, nullptr, false);
  if (body.is_discarded()) {
    std::fprintf(stderr, "deepwatch alerts: the answer is not JSON\n");
    return 1;
  }
  std::printf("ACTIVE\n");
  for (const auto& alert : body["active"]) {
    std::printf("  %-9s %-24s since %s  %s\n", alert.value("severity", "").c_str(),
                alert.value("rule", "").c_str(), alert.value("since", "").c_str(),
                alert["annotations"].value("summary", "").c_str());
  }
  std::printf("HISTORY (newest first)\n");
  for (const auto& event : body["history"]) {
    std::printf("  %s  %-11s %-24s %s\n", event.value("at", "").c_str(),
                event.value("kind", "").c_str(), event.value("rule", "").c_str(),
                event.value("severity", "").c_str());
  }
  return 0;
}

}  // namespace

void addAlertsCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<AlertsFlags>();
  CLI::App* alerts = app.add_subcommand("alerts", "Active alerts and recent alert events");
  addKeyOption(alerts, &flags->key);
  alerts->add_option("--admin", flags->admin, "The gateway's admin listener")
      ->capture_default_str();
  alerts->add_option("--history", flags->history, "How many past events to show")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  alerts->add_flag("--json", flags->json, "Print the admin API's JSON");
  alerts->callback([flags, action] { *action = [flags] { return runAlerts(*flags); }; });
}

}  // namespace dw::app
