// Golden-set probes (R5 L3, R4.1): each version of a model is asked labelled questions at an
// interval, directly on one of its replicas (whatever its traffic weight), and its accuracy is
// kept over a rolling window of results.
//
// Each version also remembers its first answer to every case, so that a later answer to the same
// case is a paired comparison with the version as it was (McNemar's design): L3 asks whether the
// version now gets wrong the cases it used to get right. Pairing removes the case mix from the
// comparison (which cases a window happened to draw), so a deterministic model that did not change
// shows no difference at all, however often it is tested.
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

// Answers to cases the version had answered before, against its first answer to each.
struct PairedChange {
  uint64_t total = 0;   // Paired answers.
  uint64_t lost = 0;    // Right at first, wrong now.
  uint64_t gained = 0;  // Wrong at first, right now.
  // The accuracy drop on these cases: (lost - gained) / total.
  double drop() const {
    return total > 0 ? (static_cast<double>(lost) - static_cast<double>(gained)) / total : 0;
  }
  // McNemar's statistic, one-sided, with continuity correction: how unlikely `lost` is if a
  // discordant answer were as likely to be a loss as a gain. 0 without discordant answers.
  double z() const;
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
  // The last `last` paired answers (of the rolling window) against the first answers.
  PairedChange change(const std::string& model, const std::string& version, int last) const;
  void reset(const std::string& model, const std::string& version);
  bool probes(const std::string& model) const { return cases_.count(model) != 0; }
  // Probes that got no answer (an error status or no connection); not counted in accuracy.
  uint64_t unanswered(const std::string& model, const std::string& version) const {
    auto it = unanswered_.find({model, version});
    return it == unanswered_.end() ? 0 : it->second;
  }
  std::vector<std::pair<std::string, std::string>> versions() const;
  // Records one answer of `key`'s version to case `case_index` of a golden set of `cases`,
  // keeping at most `window` results (the probing loop; public for tests).
  void record(const std::pair<std::string, std::string>& key, size_t case_index, bool right,
              size_t cases, int window);

 private:
  asio::awaitable<void> loop(ProbeConfig config);
  enum class Answer { kRight, kWrong, kNone };
  asio::awaitable<Answer> ask(const gateway::Replica& replica, const std::string& upstream_model,
                              const ProbeCase& probe);

  asio::io_context& io_;
  std::vector<ProbeConfig> configs_;
  std::map<std::string, std::vector<ProbeCase>> cases_;  // By model.
  // What is kept per (model, version).
  struct History {
    std::deque<bool> results;  // Right or wrong, oldest first; at most the window.
    // Per case index: -1 never answered, else 0 wrong / 1 right at the first answer.
    std::vector<int8_t> first;
    // Per result of the paired answers, oldest first: 0 same as first, 1 lost, 2 gained.
    std::deque<uint8_t> paired;
  };
  std::map<std::pair<std::string, std::string>, History> history_;
  std::map<std::pair<std::string, std::string>, uint64_t> unanswered_;
  std::function<std::shared_ptr<const gateway::RoutingTable>()> routes_;
  Random random_{0x9e0be};
  bool running_ = false;
};

}  // namespace dw::control
