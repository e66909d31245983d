#include "control/experiments.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/duration.h"
#include "base/hash.h"
#include "base/log.h"
#include "net/json_error.h"
#include "observe/layout.h"
#include "observe/shard.h"

namespace dw::control {

namespace {

using json = nlohmann::json;
using gateway::Track;

gateway::Gateway::AdminReply error(const Status& status) {
  return {httpStatusFor(status.code()),
          net::openAiErrorJson(status.message(), "invalid_request_error", "", "")};
}

// A version's samples are at most this many latencies: the bootstrap's cost stays bounded and
// the histogram's shape is kept (counts scaled down together).
constexpr uint64_t kMaxLatencySamples = 20000;

}  // namespace

Experiments::Experiments(gateway::Gateway& gateway, Prober& prober,
                         std::function<std::string(const std::string&)> busy)
    : gateway_(gateway),
      prober_(prober),
      busy_(std::move(busy)),
      random_(static_cast<uint64_t>(wallClockMs())) {}

std::map<std::string, Experiments::Counters> Experiments::counters(const std::string& model) const {
  const observe::Layout& layout = observe::Layout::get();
  std::map<std::string, Counters> out;
  auto snapshot = gateway_.observed();
  if (snapshot == nullptr) {
    return out;
  }
  for (const auto& s : snapshot->series) {
    if (s.name.model != model || s.totals.empty()) {
      continue;
    }
    Counters& c = out[s.name.version];
    c.duration.assign(layout.latencyBuckets().count(), 0);
    for (int b = 0; b < layout.latencyBuckets().count(); ++b) {
      c.duration[b] += s.totals[layout.duration(b)];
    }
    const observe::Layout::RequestTotals requests = layout.requestTotals(s.totals);
    c.requests += requests.requests;
    c.errors += requests.errors;
    c.tokens += s.totals[layout.completionTokens()];
  }
  // Feedback is counted as it arrives, not at the aggregator's tick: read it by the routes.
  auto table = gateway_.routes();
  if (const gateway::ModelRoute* route = table ? table->find(model) : nullptr) {
    for (size_t v = 0; v < route->versions.size(); ++v) {
      const gateway::FeedbackBook::Tally feedback =
          gateway_.feedback().tally(observe::seriesId(route->id, static_cast<int>(v)));
      Counters& c = out[route->versions[v].id];
      c.feedback_positive = feedback.positive;
      c.feedback_negative = feedback.negative;
    }
  }
  return out;
}

std::map<std::string, ArmSamples> Experiments::samples(const Running& experiment) const {
  const observe::Layout& layout = observe::Layout::get();
  const std::map<std::string, Counters> now = counters(experiment.config.model);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - experiment.started).count();
  auto table = gateway_.routes();
  const gateway::ModelRoute* route = table ? table->find(experiment.config.model) : nullptr;
  std::map<std::string, ArmSamples> out;
  for (const std::string& arm : experiment.config.arms()) {
    ArmSamples& a = out[arm];
    auto it = now.find(arm);
    auto start = experiment.at_start.find(arm);
    if (it != now.end()) {
      const Counters& c = it->second;
      const Counters empty;
      const Counters& s = start != experiment.at_start.end() ? start->second : empty;
      a.requests = c.requests - std::min(c.requests, s.requests);
      a.errors = c.errors - std::min(c.errors, s.errors);
      a.tokens = static_cast<double>(c.tokens - std::min(c.tokens, s.tokens));
      std::vector<uint64_t> counts(c.duration.size());
      uint64_t total = 0;
      for (size_t b = 0; b < counts.size(); ++b) {
        const uint64_t before = b < s.duration.size() ? s.duration[b] : 0;
        counts[b] = c.duration[b] - std::min(c.duration[b], before);
        total += counts[b];
      }
      const double scale =
          total > kMaxLatencySamples ? static_cast<double>(kMaxLatencySamples) / total : 1.0;
      for (size_t b = 0; b < counts.size(); ++b) {
        const auto n = static_cast<uint64_t>(std::llround(counts[b] * scale));
        a.latencies_s.insert(a.latencies_s.end(), n,
                             layout.latencyBuckets().value(static_cast<int>(b)));
      }
    }
    // Accuracy outcomes: the version's golden-set probes since the start, then the users'
    // feedback on its answers since the start, pooled as one binomial sample.
    const Accuracy accuracy = prober_.accuracy(experiment.config.model, arm);
    a.correct.assign(accuracy.correct, 1);
    a.correct.insert(a.correct.end(), accuracy.total - accuracy.correct, 0);
    if (it != now.end()) {
      const Counters empty;
      const Counters& s = start != experiment.at_start.end() ? start->second : empty;
      a.correct.insert(a.correct.end(),
                       it->second.feedback_positive -
                           std::min(it->second.feedback_positive, s.feedback_positive),
                       1);
      a.correct.insert(a.correct.end(),
                       it->second.feedback_negative -
                           std::min(it->second.feedback_negative, s.feedback_negative),
                       0);
    }
    if (route != nullptr) {
      for (const auto& v : route->versions) {
        if (v.id == arm) {
          a.replica_seconds = static_cast<double>(v.replicas.size()) * elapsed;
        }
      }
    }
  }
  return out;
}

Status Experiments::start(const std::string& name, ExperimentConfig config,
                          const std::string& actor) {
  if (auto it = experiments_.find(name);
      it != experiments_.end() && it->second->state == "running") {
    return alreadyExists(fmt::format("experiment '{}' is running", name));
  }
  for (const auto& [other, e] : experiments_) {
    if (e->state == "running" && e->config.model == config.model) {
      return failedPrecondition(
          fmt::format("model '{}' already runs experiment '{}'", config.model, other));
    }
  }
  if (std::string why = busy_(config.model); !why.empty()) {
    return failedPrecondition(why);
  }
  auto experiment = std::make_unique<Running>();
  experiment->name = name;
  experiment->actor = actor;
  const std::vector<std::string> arms = config.arms();
  // The split becomes the weights: the control stays stable, treatments run as canaries, other
  // versions get no traffic; requests stick to an arm by their key.
  DW_RETURN_IF_ERROR(gateway_.mutate([&](gateway::GatewayConfig& gc) -> Status {
    for (auto& m : gc.models) {
      if (m.name != config.model) {
        continue;
      }
      for (const std::string& arm : arms) {
        if (std::none_of(m.versions.begin(), m.versions.end(),
                         [&](const auto& v) { return v.id == arm; })) {
          return notFound(fmt::format("model '{}' has no version '{}'", m.name, arm));
        }
      }
      experiment->saved = m;
      for (auto& v : m.versions) {
        auto arm = std::find(arms.begin(), arms.end(), v.id);
        if (arm != arms.end()) {
          const size_t i = static_cast<size_t>(arm - arms.begin());
          v.track = i == 0 ? Track::kStable : Track::kCanary;
          v.weight = config.split[i];
        } else if (v.track != Track::kStandby) {
          v.weight = 0;
        }
      }
      if (config.sticky.source == StickyConfig::Source::kHeader) {
        m.sticky = gateway::StickyBy::kHeader;
        m.sticky_header = config.sticky.header;
      } else {
        m.sticky = gateway::StickyBy::kApiKey;
      }
      return okStatus();
    }
    return notFound(fmt::format("no model '{}'", config.model));
  }));
  for (const std::string& arm : arms) {
    prober_.reset(config.model, arm);
  }
  experiment->at_start = counters(config.model);
  experiment->started = std::chrono::steady_clock::now();
  experiment->started_ms = wallClockMs();
  experiment->config = std::move(config);
  DW_LOG_WARN("experiment {} started on {} by {}", name, experiment->config.model, actor);
  experiments_[name] = std::move(experiment);
  return okStatus();
}

Status Experiments::stop(Running& experiment) {
  if (experiment.state != "running") {
    return failedPrecondition(fmt::format("experiment '{}' is not running", experiment.name));
  }
  experiment.last_verdict = report(experiment)["verdict"];
  experiment.state = "stopped";
  experiment.stopped_ms = wallClockMs();
  // The routes as they were before the experiment (tracks, weights, stickiness).
  return gateway_.mutate([&](gateway::GatewayConfig& gc) -> Status {
    for (auto& m : gc.models) {
      if (m.name != experiment.config.model) {
        continue;
      }
      for (auto& v : m.versions) {
        for (const auto& saved : experiment.saved.versions) {
          if (saved.id == v.id) {
            v.track = saved.track;
            v.weight = saved.weight;
          }
        }
      }
      m.sticky = experiment.saved.sticky;
      m.sticky_header = experiment.saved.sticky_header;
    }
    return okStatus();
  });
}

json Experiments::report(Running& experiment) {
  json out = {{"name", experiment.name},
              {"model", experiment.config.model},
              {"arms", experiment.config.arms()},
              {"split", experiment.config.split},
              {"state", experiment.state},
              {"actor", experiment.actor},
              {"started_ms", experiment.started_ms}};
  if (experiment.state == "running") {
    // Seeded per experiment and sample size: reading the same data twice gives the same answer.
    Random random(stableHash(experiment.name) ^ static_cast<uint64_t>(wallClockMs() / 60000));
    experiment.last_verdict = toJson(judge(experiment.config, samples(experiment), random));
  }
  out["verdict"] = experiment.last_verdict;
  return out;
}

std::vector<report::Experiment> Experiments::forReport(int64_t from_ms, int64_t to_ms) {
  std::vector<report::Experiment> out;
  for (auto& [name, e] : experiments_) {
    if (e->started_ms >= to_ms || (e->stopped_ms != 0 && e->stopped_ms < from_ms)) {
      continue;
    }
    json verdict = report(*e)["verdict"];
    if (!verdict.is_object()) {
      verdict = json::object();
    }
    report::Experiment x;
    x.name = name;
    x.arms = e->config.arms();
    x.decision = e->state == "running" ? "running: " + verdict.value("decision", std::string())
                                       : verdict.value("decision", std::string());
    if (verdict.contains("winner") && verdict["winner"].is_string()) {
      x.winner = verdict["winner"].get<std::string>();
    }
    if (verdict.contains("score_difference")) {
      const json& d = verdict["score_difference"];
      auto real = [&](const char* key) {
        return d.contains(key) && d[key].is_number() ? d[key].get<double>() : 0.0;
      };
      x.score_diff = real("value");
      x.ci_low = real("low");
      x.ci_high = real("high");
    }
    out.push_back(std::move(x));
  }
  return out;
}

gateway::Gateway::AdminReply Experiments::handle(const net::Request& request,
                                                 const std::string& actor) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view rest = path.substr(std::string_view("/admin/v1/experiments").size());
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  }
  const std::string name(rest.substr(0, rest.find('/')));
  const std::string_view action =
      rest.find('/') == std::string_view::npos ? "" : rest.substr(rest.find('/') + 1);
  const auto method = request.method();
  if (method == net::http::verb::get && name.empty()) {
    json list = json::array();
    for (auto& [n, e] : experiments_) {
      list.push_back(report(*e));
    }
    return {200, json{{"experiments", list}}.dump()};
  }
  auto it = experiments_.find(name);
  if (method == net::http::verb::get) {
    if (it == experiments_.end()) {
      return error(notFound(fmt::format("no experiment '{}'", name)));
    }
    return {200, report(*it->second).dump()};
  }
  if (method == net::http::verb::post && !name.empty() && action == "stop") {
    if (it == experiments_.end()) {
      return error(notFound(fmt::format("no experiment '{}'", name)));
    }
    if (Status s = stop(*it->second); !s.ok()) {
      return error(s);
    }
    return {200, report(*it->second).dump()};
  }
  if (method == net::http::verb::post && name.empty()) {
    json body = json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
        body["name"].get<std::string>().empty()) {
      return error(invalidArgument("the body needs a 'name' and the experiment"));
    }
    const std::string experiment_name = body["name"].get<std::string>();
    body.erase("name");
    body.erase("reason");
    body.erase("actor");
    auto config = experimentFromJson(body);
    if (!config.ok()) {
      return error(config.status());
    }
    if (Status s = start(experiment_name, std::move(*config), actor); !s.ok()) {
      return error(s);
    }
    return {200, report(*experiments_[experiment_name]).dump()};
  }
  return error(invalidArgument("use GET, POST (start) or POST /{name}/stop"));
}

}  // namespace dw::control
