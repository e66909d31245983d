// `deepwatch ctl`: the operator's command line over the admin API (/admin/v1): versions,
// rollouts and control events; deploy, promote, rollback, pause, resume, abort; weights, scale
// and thresholds. Every change states an actor and a reason (R7: they become audit entries).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "app/admin_key.h"
#include "app/commands.h"
#include "net/http_client.h"

namespace dw::app {
namespace {

using json = nlohmann::ordered_json;

struct CtlFlags {
  std::string admin = "http://127.0.0.1:9090";
  std::string key;
  std::string actor;
  std::string reason;
  bool json = false;
  std::string model;
  std::string version;
  std::string to;
  std::string mode = "canary";
  int replicas = -1;
  std::vector<std::string> weights;   // version=weight
  std::vector<std::string> settings;  // rollout.key=value or recovery.key=value
  std::vector<std::string> roles;
  double expires_in = 0;
  int limit = 30;
};

std::string defaultActor() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "ctl";
}

// One admin call; prints the error and returns nullopt-like discarded JSON on failure.
json call(const CtlFlags& flags, const char* method, const std::string& path,
          const json& body = nullptr) {
  auto answer = net::httpCall(method, flags.admin + path, body.is_null() ? "" : body.dump(),
                              std::chrono::seconds(10), adminKey(flags.key));
  if (!answer.ok()) {
    std::fprintf(stderr, "deepwatch ctl: %s\n", answer.status().message().c_str());
    return json(json::value_t::discarded);
  }
  json parsed = json::parse(answer->body, nullptr, false);
  if (answer->status != 200) {
    const std::string message = parsed.is_object() && parsed.contains("error")
                                    ? parsed["error"].value("message", answer->body)
                                    : answer->body;
    std::fprintf(stderr, "deepwatch ctl: HTTP %d: %s\n", answer->status, message.c_str());
    return json(json::value_t::discarded);
  }
  if (parsed.is_discarded()) {
    std::fprintf(stderr, "deepwatch ctl: the answer is not JSON\n");
  }
  return parsed;
}

json change(const CtlFlags& flags, json body) {
  body["actor"] = flags.actor.empty() ? defaultActor() : flags.actor;
  body["reason"] = flags.reason;
  return body;
}

std::string text(const json& v) {
  if (v.is_null()) {
    return "-";
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_number_float()) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.3f", v.get<double>());
    return buffer;
  }
  return v.dump();
}

int printVersions(const json& body) {
  std::printf("%-16s %-10s %-9s %-8s %6s %9s %9s  %s\n", "MODEL", "VERSION", "STATE", "TRACK",
              "WEIGHT", "ACCURACY", "BASELINE", "REPLICAS");
  for (const auto& v : body["versions"]) {
    int healthy = 0;
    int total = 0;
    for (const auto& r : v.value("replicas", json::array())) {
      ++total;
      healthy += r.value("healthy", false) ? 1 : 0;
    }
    std::printf("%-16s %-10s %-9s %-8s %6s %9s %9s  %d/%d healthy\n", v.value("model", "").c_str(),
                v.value("version", "").c_str(), v.value("state", "").c_str(),
                text(v.value("track", json())).c_str(), text(v.value("weight", json())).c_str(),
                text(v.value("probe_accuracy", json())).c_str(),
                text(v.value("accuracy_when_stable", json())).c_str(), healthy, total);
  }
  return 0;
}

int printRollouts(const json& body) {
  std::printf("%-16s %-10s %-10s %-12s %-7s %5s  %s\n", "MODEL", "CANDIDATE", "BASELINE", "STATE",
              "MODE", "STEP", "LAST ANALYSIS");
  for (const auto& r : body["rollouts"]) {
    std::printf("%-16s %-10s %-10s %-12s %-7s %5s  %s\n", r.value("model", "").c_str(),
                r.value("candidate", "").c_str(), r.value("baseline", "").c_str(),
                r.value("state", "").c_str(), r.value("mode", "").c_str(),
                text(r.value("step", json())).c_str(), r.value("last_analysis", "").c_str());
  }
  return 0;
}

int printEvents(const json& body, int limit) {
  int shown = 0;
  for (const auto& e : body["events"]) {
    if (shown++ >= limit) {
      break;
    }
    const int64_t ms = e.value("at_ms", int64_t{0});
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    char when[32];
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::printf("%s  %-22s %-12s %-8s %-10s %s\n", when, e.value("kind", "").c_str(),
                e.value("model", "").c_str(), e.value("version", "").c_str(),
                e.value("actor", "").c_str(), e.value("reason", "").c_str());
  }
  return 0;
}

// Runs one admin call and prints its JSON (--json or a change) or a table (a listing).
int printKeys(const json& answer) {
  std::printf("%-14s %-26s %-18s %-18s %s\n", "ID", "KEY", "NAME", "USER", "CREATED BY");
  for (const json& k : answer.value("keys", json::array())) {
    std::printf("%-14s %-26s %-18s %-18s %s\n", k.value("id", "").c_str(),
                k.value("key", "").c_str(), k.value("name", "").c_str(),
                k.value("user", "").c_str(), k.value("created_by", "").c_str());
  }
  return 0;
}

int run(const CtlFlags& flags, const char* method, const std::string& path, const json& body,
        int (*table)(const json&) = nullptr) {
  json answer = call(flags, method, path, body);
  if (answer.is_discarded()) {
    return 1;
  }
  if (flags.json || table == nullptr) {
    std::printf("%s\n", answer.dump(2).c_str());
    return 0;
  }
  return table(answer);
}

// "rollout.p99_ratio=1.5" -> {"rollout": {"p99_ratio": 1.5}}; the value as JSON when it parses
// (numbers, booleans), else as a string (durations).
bool parseSettings(const std::vector<std::string>& settings, json* out) {
  for (const std::string& s : settings) {
    const size_t dot = s.find('.');
    const size_t eq = s.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
      std::fprintf(stderr, "deepwatch ctl: '%s' is not SECTION.KEY=VALUE\n", s.c_str());
      return false;
    }
    json value = json::parse(s.substr(eq + 1), nullptr, false);
    if (value.is_discarded()) {
      value = s.substr(eq + 1);
    }
    (*out)[s.substr(0, dot)][s.substr(dot + 1, eq - dot - 1)] = value;
  }
  return true;
}

bool parseWeights(const std::vector<std::string>& weights, json* out) {
  for (const std::string& w : weights) {
    const size_t eq = w.find('=');
    char* end = nullptr;
    const double weight = eq == std::string::npos ? -1 : std::strtod(w.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == w.c_str() + eq + 1 || *end != '\0' || weight < 0) {
      std::fprintf(stderr, "deepwatch ctl: '%s' is not VERSION=WEIGHT\n", w.c_str());
      return false;
    }
    (*out)[w.substr(0, eq)] = weight;
  }
  return true;
}

}  // namespace

void addCtlCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<CtlFlags>();
  CLI::App* ctl = app.add_subcommand("ctl", "Operate the fleet through the admin API");
  ctl->require_subcommand(1);
  ctl->add_option("--admin", flags->admin, "The gateway's admin listener")->capture_default_str();
  addKeyOption(ctl, &flags->key);
  ctl->add_flag("--json", flags->json, "Print the admin API's JSON");

  auto set = [action, flags](CLI::App* sub, std::function<int()> run_it) {
    sub->callback([action, run_it] { *action = run_it; });
  };
  auto needs_reason = [flags](CLI::App* sub) {
    sub->add_option("--reason", flags->reason, "Why (recorded with the action)")->required();
    sub->add_option("--actor", flags->actor, "Who acts (default: $USER)");
  };

  CLI::App* versions = ctl->add_subcommand("versions", "Versions, their state and replicas");
  set(versions,
      [flags] { return run(*flags, "GET", "/admin/v1/versions", nullptr, printVersions); });
  CLI::App* rollouts = ctl->add_subcommand("rollouts", "Rollouts and their last analysis");
  set(rollouts,
      [flags] { return run(*flags, "GET", "/admin/v1/rollouts", nullptr, printRollouts); });
  CLI::App* events = ctl->add_subcommand("events", "Maintenance actions, newest first");
  events->add_option("-n,--limit", flags->limit, "How many")->capture_default_str();
  set(events, [flags] {
    json answer = call(*flags, "GET", "/admin/v1/events");
    if (answer.is_discarded()) {
      return 1;
    }
    if (flags->json) {
      std::printf("%s\n", answer.dump(2).c_str());
      return 0;
    }
    return printEvents(answer, flags->limit);
  });

  CLI::App* deploy = ctl->add_subcommand("deploy", "Deploy a version: canary or direct switch");
  deploy->add_option("model", flags->model, "Model")->required();
  deploy->add_option("version", flags->version, "Version to deploy")->required();
  deploy->add_option("--mode", flags->mode, "canary or direct")
      ->check(CLI::IsMember({"canary", "direct"}))
      ->capture_default_str();
  needs_reason(deploy);
  set(deploy, [flags] {
    return run(
        *flags, "POST", "/admin/v1/rollouts",
        change(*flags,
               {{"model", flags->model}, {"version", flags->version}, {"mode", flags->mode}}));
  });

  static constexpr std::pair<const char*, const char*> kRolloutVerbs[] = {
      {"promote", "Promote the model's rollout now"},
      {"pause", "Pause the model's rollout at its step"},
      {"resume", "Resume a paused rollout"},
      {"abort", "Abort the model's rollout and route back to the baseline"}};
  for (const auto& [verb, help] : kRolloutVerbs) {
    CLI::App* sub = ctl->add_subcommand(verb, help);
    sub->add_option("model", flags->model, "Model")->required();
    needs_reason(sub);
    const std::string name = verb;
    set(sub, [flags, name] {
      return run(*flags, "POST", "/admin/v1/rollouts/" + flags->model + "/" + name,
                 change(*flags, json::object()));
    });
  }

  CLI::App* rollback = ctl->add_subcommand("rollback", "Roll the stable version back");
  rollback->add_option("model", flags->model, "Model")->required();
  rollback->add_option("--to", flags->to, "Version (default: the last stable one)");
  needs_reason(rollback);
  set(rollback, [flags] {
    json body = {{"model", flags->model}};
    if (!flags->to.empty()) {
      body["to"] = flags->to;
    }
    return run(*flags, "POST", "/admin/v1/rollback", change(*flags, body));
  });

  CLI::App* weights = ctl->add_subcommand("weights", "Set traffic weights of versions");
  weights->add_option("model", flags->model, "Model")->required();
  weights->add_option("weights", flags->weights, "VERSION=WEIGHT ...")->required();
  needs_reason(weights);
  set(weights, [flags] {
    json w = json::object();
    if (!parseWeights(flags->weights, &w)) {
      return 2;
    }
    return run(*flags, "PUT", "/admin/v1/models/" + flags->model + "/weights",
               change(*flags, {{"weights", w}}));
  });

  CLI::App* scale = ctl->add_subcommand("scale", "Set the launched replicas of a version");
  scale->add_option("model", flags->model, "Model")->required();
  scale->add_option("version", flags->version, "Version")->required();
  scale->add_option("replicas", flags->replicas, "Replica count")
      ->required()
      ->check(CLI::Range(0, 1000));
  needs_reason(scale);
  set(scale, [flags] {
    return run(*flags, "POST", "/admin/v1/scale",
               change(*flags, {{"model", flags->model},
                               {"version", flags->version},
                               {"replicas", flags->replicas}}));
  });

  CLI::App* tune = ctl->add_subcommand(
      "tune", "Show or change analysis and recovery thresholds (rollout.KEY=V, recovery.KEY=V)");
  tune->add_option("settings", flags->settings, "e.g. rollout.p99_ratio=1.5");
  tune->add_option("--reason", flags->reason, "Why (required with changes)");
  tune->add_option("--actor", flags->actor, "Who acts (default: $USER)");
  set(tune, [flags] {
    if (flags->settings.empty()) {
      return run(*flags, "GET", "/admin/v1/settings", nullptr);
    }
    if (flags->reason.empty()) {
      std::fprintf(stderr, "deepwatch ctl tune: --reason is required to change settings\n");
      return 2;
    }
    json body = json::object();
    if (!parseSettings(flags->settings, &body)) {
      return 2;
    }
    return run(*flags, "POST", "/admin/v1/settings", change(*flags, body));
  });

  // R6: A/B experiments.
  CLI::App* experiments =
      ctl->add_subcommand("experiments", "A/B experiments: list, start, show, stop");
  experiments->require_subcommand(1);
  CLI::App* exp_list = experiments->add_subcommand("list", "Experiments and their verdicts");
  set(exp_list, [flags] { return run(*flags, "GET", "/admin/v1/experiments", nullptr); });
  CLI::App* exp_show = experiments->add_subcommand("show", "One experiment and its verdict");
  exp_show->add_option("name", flags->model, "Experiment")->required();
  set(exp_show,
      [flags] { return run(*flags, "GET", "/admin/v1/experiments/" + flags->model, nullptr); });
  CLI::App* exp_start = experiments->add_subcommand(
      "start", "Start an experiment: NAME MODEL CONTROL TREATMENT [--split C=50 T=50]");
  exp_start->add_option("name", flags->to, "Experiment name")->required();
  exp_start->add_option("model", flags->model, "Model")->required();
  exp_start->add_option("control", flags->version, "Control version")->required();
  exp_start->add_option("treatment", flags->roles, "Treatment version(s)")->required();
  exp_start->add_option("--split", flags->weights, "VERSION=PERCENT ... (default: even)");
  needs_reason(exp_start);
  set(exp_start, [flags] {
    json body = {{"name", flags->to},
                 {"model", flags->model},
                 {"control", flags->version},
                 {"treatments", flags->roles}};
    if (!flags->weights.empty()) {
      json split = json::object();
      if (!parseWeights(flags->weights, &split)) {
        return 2;
      }
      body["split"] = split;
    }
    return run(*flags, "POST", "/admin/v1/experiments", change(*flags, body));
  });
  CLI::App* exp_stop = experiments->add_subcommand("stop", "Stop an experiment, restore routes");
  exp_stop->add_option("name", flags->model, "Experiment")->required();
  needs_reason(exp_stop);
  set(exp_stop, [flags] {
    return run(*flags, "POST", "/admin/v1/experiments/" + flags->model + "/stop",
               change(*flags, json::object()));
  });

  // R7: keys, roles and bindings. A new key is printed once.
  CLI::App* whoami = ctl->add_subcommand("whoami", "The identity and roles of the key in use");
  set(whoami, [flags] { return run(*flags, "GET", "/admin/v1/whoami", nullptr); });
  CLI::App* keys = ctl->add_subcommand("keys", "API keys: list, create, revoke");
  keys->require_subcommand(1);
  CLI::App* keys_list = keys->add_subcommand("list", "Active keys, masked");
  set(keys_list, [flags] { return run(*flags, "GET", "/admin/v1/keys", nullptr, printKeys); });
  CLI::App* keys_create = keys->add_subcommand("create", "Create a key (printed once)");
  keys_create->add_option("name", flags->model, "What the key is for")->required();
  keys_create->add_option("--user", flags->version,
                          "The identity it authenticates as (default: "
                          "the name)");
  keys_create->add_option("--role", flags->roles, "Roles to bind to that identity");
  keys_create->add_option("--expires-in", flags->expires_in, "Seconds until it expires");
  needs_reason(keys_create);
  set(keys_create, [flags] {
    json body = {{"name", flags->model}, {"roles", flags->roles}};
    if (!flags->version.empty()) {
      body["user"] = flags->version;
    }
    if (flags->expires_in > 0) {
      body["expires_in_seconds"] = flags->expires_in;
    }
    json answer = call(*flags, "POST", "/admin/v1/keys", change(*flags, body));
    if (answer.is_discarded()) {
      return 1;
    }
    if (flags->json) {
      std::printf("%s\n", answer.dump(2).c_str());
    } else {
      std::printf("%s\n", answer.value("key", "").c_str());
      std::fprintf(stderr, "created key %s for %s (shown once: store it now)\n",
                   answer.value("id", "").c_str(), answer.value("user", "").c_str());
    }
    return 0;
  });
  CLI::App* keys_revoke = keys->add_subcommand("revoke", "Revoke a key by its id");
  keys_revoke->add_option("id", flags->model, "The key's id")->required();
  needs_reason(keys_revoke);
  set(keys_revoke, [flags] {
    return run(*flags, "DELETE", "/admin/v1/keys/" + flags->model, change(*flags, json::object()));
  });
  CLI::App* roles = ctl->add_subcommand("roles", "RBAC roles");
  set(roles, [flags] { return run(*flags, "GET", "/admin/v1/roles", nullptr); });
  CLI::App* bindings = ctl->add_subcommand("bindings", "RBAC role bindings");
  set(bindings, [flags] { return run(*flags, "GET", "/admin/v1/rolebindings", nullptr); });
  CLI::App* bind = ctl->add_subcommand("bind", "Bind a role to a user or group");
  bind->add_option("role", flags->model, "Role")->required();
  bind->add_option("subject", flags->version, "User name, or group:NAME")->required();
  needs_reason(bind);
  set(bind, [flags] {
    const bool group = flags->version.starts_with("group:");
    const std::string name = group ? flags->version.substr(6) : flags->version;
    json body = {{"name", name + "-" + flags->model},
                 {"roleRef", {{"name", flags->model}}},
                 {"subjects", json::array({{{"kind", group ? "Group" : "User"}, {"name", name}}})}};
    return run(*flags, "POST", "/admin/v1/rolebindings", change(*flags, body));
  });
  CLI::App* unbind = ctl->add_subcommand("unbind", "Delete a role binding");
  unbind->add_option("name", flags->model, "Binding name")->required();
  needs_reason(unbind);
  set(unbind, [flags] {
    return run(*flags, "DELETE", "/admin/v1/rolebindings/" + flags->model,
               change(*flags, json::object()));
  });
}

}  // namespace dw::app
