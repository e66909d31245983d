#include "control/prober.h"

#include <re2/re2.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "net/http_client.h"

namespace dw::control {

using json = nlohmann::json;

StatusOr<std::vector<ProbeCase>> loadGoldenSet(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return notFound("cannot read the golden set " + path);
  }
  std::vector<ProbeCase> cases;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();  // A file with Windows line endings.
    }
    if (line.empty()) {
      continue;
    }
    json entry = json::parse(line, nullptr, false);
    auto where = [&] { return path + ":" + std::to_string(line_number) + ": "; };
    if (!entry.is_object() || !entry.contains("expected") || !entry["expected"].is_string()) {
      return invalidArgument(where() + "a probe needs a string \"expected\"");
    }
    ProbeCase probe;
    probe.expected = entry["expected"].get<std::string>();
    if (entry.contains("match") && !entry["match"].is_string()) {
      return invalidArgument(where() + "\"match\" must be a string");
    }
    const std::string match = entry.value("match", "exact");
    if (match == "exact") {
      probe.match = ProbeCase::Match::kExact;
    } else if (match == "contains") {
      probe.match = ProbeCase::Match::kContains;
    } else if (match == "label") {
      probe.match = ProbeCase::Match::kLabel;
    } else if (match == "regex") {
      probe.match = ProbeCase::Match::kRegex;
      RE2::Options options;
      options.set_log_errors(false);
      probe.regex = std::make_shared<re2::RE2>(probe.expected, options);
      if (!probe.regex->ok()) {
        return invalidArgument(where() + "bad regex: " + probe.regex->error());
      }
    } else {
      return invalidArgument(where() + "\"match\" must be exact, contains, regex or label");
    }
    json request = json::object();
    if (entry.contains("messages") && entry["messages"].is_array()) {
      request["messages"] = entry["messages"];
    } else if (entry.contains("prompt") && entry["prompt"].is_string()) {
      request["messages"] = json::array({{{"role", "user"}, {"content", entry["prompt"]}}});
    } else {
      return invalidArgument(where() + "a probe needs \"messages\" or \"prompt\"");
    }
    for (const char* key : {"max_tokens", "temperature", "deepwatch"}) {
      if (entry.contains(key)) {
        request[key] = entry[key];
      }
    }
    if (!request.contains("temperature")) {
      request["temperature"] = 0;
    }
    probe.request = request.dump(-1, ' ', false, json::error_handler_t::replace);
    cases.push_back(std::move(probe));
  }
  if (cases.empty()) {
    return invalidArgument("the golden set " + path + " is empty");
  }
  return cases;
}

namespace {
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}
}  // namespace

bool probeMatches(const ProbeCase& probe, std::string_view answer) {
  switch (probe.match) {
    case ProbeCase::Match::kExact:
    case ProbeCase::Match::kLabel:
      return trimmed(answer) == trimmed(probe.expected);
    case ProbeCase::Match::kContains:
      return answer.find(probe.expected) != std::string_view::npos;
    case ProbeCase::Match::kRegex:
      return re2::RE2::PartialMatch(re2::StringPiece(answer.data(), answer.size()), *probe.regex);
  }
  return false;
}

Prober::Prober(asio::io_context& io, std::vector<ProbeConfig> configs,
               std::map<std::string, std::vector<ProbeCase>> cases)
    : io_(io), configs_(std::move(configs)), cases_(std::move(cases)) {}

void Prober::start(std::function<std::shared_ptr<const gateway::RoutingTable>()> routes) {
  routes_ = std::move(routes);
  running_ = true;
  for (const ProbeConfig& config : configs_) {
    asio::co_spawn(io_, loop(config), asio::detached);
  }
}

void Prober::stop() { running_ = false; }

asio::awaitable<Prober::Answer> Prober::ask(const gateway::Replica& replica,
                                            const std::string& upstream_model,
                                            const ProbeCase& probe) {
  json body = json::parse(probe.request, nullptr, false);
  body["model"] = upstream_model;
  auto answer = co_await net::httpCallAsync(
      "POST", "http://" + replica.host_header + replica.path_prefix + "/v1/chat/completions",
      body.dump(-1, ' ', false, json::error_handler_t::replace), std::chrono::seconds(10));
  // A replica that does not answer is an availability problem (L1, L2), not a wrong answer: it
  // does not count against the version's accuracy.
  if (!answer.ok() || answer->status != 200) {
    co_return Answer::kNone;
  }
  json response = json::parse(answer->body, nullptr, false);
  if (!response.is_object() || !response.contains("choices") || response["choices"].empty()) {
    co_return Answer::kWrong;  // Answered, but not with a completion.
  }
  const json& choice = response["choices"][0];
  std::string content;
  if (choice.contains("message") && choice["message"].contains("content") &&
      choice["message"]["content"].is_string()) {
    content = choice["message"]["content"].get<std::string>();
  } else if (choice.contains("text") && choice["text"].is_string()) {
    content = choice["text"].get<std::string>();
  }
  co_return probeMatches(probe, content) ? Answer::kRight : Answer::kWrong;
}

asio::awaitable<void> Prober::loop(ProbeConfig config) {
  asio::steady_timer timer(io_);
  const std::vector<ProbeCase>& cases = cases_[config.model];
  while (running_) {
    auto table = routes_();
    const gateway::ModelRoute* model = table ? table->find(config.model) : nullptr;
    for (size_t v = 0; model != nullptr && v < model->versions.size(); ++v) {
      const gateway::VersionRoute& version = model->versions[v];
      std::vector<const gateway::Replica*> healthy;
      for (const auto& replica : version.replicas) {
        if (replica->healthy.load()) {
          healthy.push_back(replica.get());
        }
      }
      if (healthy.empty()) {
        continue;  // A version with nowhere to ask keeps its earlier results.
      }
      const std::pair<std::string, std::string> key(config.model, version.id);
      for (int i = 0; i < config.per_round && running_; ++i) {
        const size_t case_index = random_.below(cases.size());
        const ProbeCase& probe = cases[case_index];
        const gateway::Replica& replica = *healthy[random_.below(healthy.size())];
        // The table (and so the replica) stays alive: `table` is held across the await.
        const Answer answer = co_await ask(replica, version.upstream_model, probe);
        if (answer == Answer::kNone) {
          ++unanswered_[key];
          continue;
        }
        // Looked up after the await: reset() may have erased the window meanwhile.
        record(key, case_index, answer == Answer::kRight, cases.size(), config.window);
      }
    }
    timer.expires_after(config.interval);
    net::error_code ec;
    co_await timer.async_wait(net::redirect(ec));
  }
}

void Prober::record(const std::pair<std::string, std::string>& key, size_t case_index, bool right,
                    size_t cases, int window) {
  History& h = history_[key];
  h.results.push_back(right);
  while (h.results.size() > static_cast<size_t>(window)) {
    h.results.pop_front();
  }
  h.first.resize(cases, -1);
  int8_t& first = h.first[case_index];
  if (first < 0) {
    first = right ? 1 : 0;  // The reference for this case from now on.
    return;
  }
  h.paired.push_back(first == (right ? 1 : 0) ? 0 : (right ? 2 : 1));
  while (h.paired.size() > static_cast<size_t>(window)) {
    h.paired.pop_front();
  }
}

double PairedChange::z() const {
  const double discordant = static_cast<double>(lost + gained);
  if (discordant == 0) {
    return 0;
  }
  const double excess = static_cast<double>(lost) - static_cast<double>(gained);
  return (excess > 0 ? excess - 1 : excess) / std::sqrt(discordant);
}

PairedChange Prober::change(const std::string& model, const std::string& version, int last) const {
  PairedChange out;
  auto it = history_.find({model, version});
  if (it == history_.end()) {
    return out;
  }
  const auto& paired = it->second.paired;
  const size_t begin =
      paired.size() > static_cast<size_t>(last) ? paired.size() - static_cast<size_t>(last) : 0;
  for (size_t i = begin; i < paired.size(); ++i) {
    ++out.total;
    out.lost += paired[i] == 1 ? 1 : 0;
    out.gained += paired[i] == 2 ? 1 : 0;
  }
  return out;
}

Accuracy Prober::accuracy(const std::string& model, const std::string& version, int last) const {
  Accuracy out;
  auto it = history_.find({model, version});
  if (it == history_.end()) {
    return out;
  }
  const auto& results = it->second.results;
  const size_t begin = last > 0 && results.size() > static_cast<size_t>(last)
                           ? results.size() - static_cast<size_t>(last)
                           : 0;
  for (size_t i = begin; i < results.size(); ++i) {
    out.correct += results[i] ? 1 : 0;
    ++out.total;
  }
  return out;
}

void Prober::reset(const std::string& model, const std::string& version) {
  history_.erase({model, version});
}

std::vector<std::pair<std::string, std::string>> Prober::versions() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, history] : history_) {
    out.push_back(key);
  }
  return out;
}

}  // namespace dw::control
