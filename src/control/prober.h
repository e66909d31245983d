// Golden-set probes (R5 L3, R4.1): each version of a model is asked labelled questions at an
// interval, directly on one of its replicas (whatever its traffic weight), and its accuracy is
// kept over a rolling window of results.
//
// Thread contract: the control thread (rounds run as coroutines on the control io_context).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/random.h"
#include "base/status.h"
#include "gateway/routing.h"
#include "net/asio.h"

namespace re2 {
class RE2;
}

namespace dw::control {

namespace asio = net::asio;

struct ProbeCase {
  enum class Match { kExact, kContains, kRegex, kLabel };
  std::string request;  // A chat completion request body without "model".
  std::string expected;
  Match match = Match::kExact;
  std::shared_ptr<re2::RE2> regex;  // kRegex.
};

// Reads a golden set: one JSON object per line with "messages" (a chat request) or "prompt",
// "expected", and "match" (exact, contains, regex or label; default exact).
StatusOr<std::vector<ProbeCase>> loadGoldenSet(const std::string& path);

// Whether `answer` (the content of a completion) is right for `probe`.
bool probeMatches(const ProbeCase& probe, std::string_view answer);

struct ProbeConfig {
  std::string model;
  std::string file;
  Duration interval = std::chrono::seconds(5);
  int per_round = 10;
  int window = 200;  // Results kept per version.
};

struct Accuracy {
  uint64_t correct = 0;
  uint64_t total = 0;
  double value() const { return total > 0 ? static_cast<double>(correct) / total : NAN; }
};

class Prober {
 public:
  Prober(asio::io_context& io, std::vector<ProbeConfig> configs,
         std::map<std::string, std::vector<ProbeCase>> cases);

  // `routes` gives the current routing table at each round.
  void start(std::function<std::shared_ptr<const gateway::RoutingTable>()> routes);
  void stop();

  // Over the whole rolling window, or over its last `last` results.
  Accuracy accuracy(const std::string& model, const std::string& version, int last = 0) const;
  void reset(const std::string& model, const std::string& version);
  bool probes(const std::string& model) const { return cases_.count(model) != 0; }
  // Probes that got no answer (an error status or no connection); not counted in accuracy.
  uint64_t unanswered(const std::string& model, const std::string& version) const {
    auto it = unanswered_.find({model, version});
    return it == unanswered_.end() ? 0 : it->second;
  }
  std::vector<std::pair<std::string, std::string>> versions() const;

 private:
  asio::awaitable<void> loop(ProbeConfig config);
  enum class Answer { kRight, kWrong, kNone };
  asio::awaitable<Answer> ask(const gateway::Replica& replica, const std::string& upstream_model,
                              const ProbeCase& probe);

  asio::io_context& io_;
  std::vector<ProbeConfig> configs_;
  std::map<std::string, std::vector<ProbeCase>> cases_;  // By model.
  std::map<std::pair<std::string, std::string>, std::deque<bool>> results_;
  std::map<std::pair<std::string, std::string>, uint64_t> unanswered_;
  std::function<std::shared_ptr<const gateway::RoutingTable>()> routes_;
  Random random_{0x9e0be};
  bool running_ = false;
};

}  // namespace dw::control
