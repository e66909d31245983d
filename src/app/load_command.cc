// `deepwatch load`: an open-loop load generator at a given rate (the demo's traffic, the drills').
#include <CLI/CLI.hpp>

#include <cstdlib>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "control/load_generator.h"

namespace dw::app {
namespace {

struct LoadFlags {
  std::string key;  // API key: Authorization: Bearer
  std::string url = "http://127.0.0.1:8080/v1/chat/completions";
  double rate = 10;
  double ramp_to = -1;
  std::string duration = "10s";
  std::string model = "fortune";
  std::string prompts;  // A file: one prompt per line.
  bool classify = false;
  bool stream = false;
  int max_tokens = 16;
  int max_in_flight = 512;
  bool progress = false;
};

int runLoad(const LoadFlags& flags) {
  control::LoadOptions options;
  options.url = flags.url;
  options.rate = flags.rate;
  options.ramp_to = flags.ramp_to;
  options.duration = parseDuration(flags.duration).value();
  options.max_in_flight = flags.max_in_flight;
  if (std::string key = !flags.key.empty() ? flags.key
                        : std::getenv("DEEPWATCH_API_KEY") != nullptr
                            ? std::getenv("DEEPWATCH_API_KEY")
                            : "";
      !key.empty()) {
    options.headers.emplace_back("authorization", "Bearer " + key);
  }
  std::vector<std::string> prompts;
  if (!flags.prompts.empty()) {
    std::ifstream in(flags.prompts);
    if (!in) {
      std::fprintf(stderr, "deepwatch load: cannot read %s\n", flags.prompts.c_str());
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) {
        prompts.push_back(line);
      }
    }
  }
  if (prompts.empty()) {
    prompts = {"The computer", "Science is", "床前明月光", "Politics is", "Work is", "Art is"};
  }
  for (const std::string& prompt : prompts) {
    nlohmann::json messages = nlohmann::json::array();
    if (flags.classify) {
      messages.push_back({{"role", "system"}, {"content", "classify"}});
    }
    messages.push_back({{"role", "user"}, {"content", prompt}});
    nlohmann::json body = {{"model", flags.model},
                           {"messages", std::move(messages)},
                           {"max_tokens", flags.max_tokens},
                           {"stream", flags.stream}};
    if (flags.classify) {
      body["logprobs"] = true;
    }
    options.bodies.push_back(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  control::LoadGenerator generator(options);
  auto report = generator.run([&](const control::LoadReport& r) {
    if (flags.progress) {
      std::fprintf(stderr, "%.0fs sent %llu ok %llu p99 %.3fs\n", r.seconds,
                   static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.ok),
                   r.p99);
    }
  });
  if (!report.ok()) {
    std::fprintf(stderr, "deepwatch load: %s\n", report.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", report->toJson().c_str());
  return 0;
}

}  // namespace

void addLoadCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<LoadFlags>();
  CLI::App* load = app.add_subcommand("load", "Send open-loop traffic at a given rate");
  load->add_option("--url", flags->url, "Where to send")->capture_default_str();
  load->add_option("--rate", flags->rate, "Requests per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  load->add_option("--ramp-to", flags->ramp_to, "Move the rate linearly to this by the end");
  load->add_option("--duration", flags->duration, "How long")
      ->capture_default_str()
      ->check([](const std::string& text) {
        auto parsed = parseDuration(text);
        return parsed.ok() ? std::string() : parsed.status().message();
      });
  load->add_option("--model", flags->model, "The model")->capture_default_str();
  load->add_option("--key", flags->key, "API key (default: $DEEPWATCH_API_KEY)");
  load->add_option("--prompts", flags->prompts, "A file with one prompt per line");
  load->add_flag("--classify", flags->classify, "Ask the reference model to classify");
  load->add_flag("--stream", flags->stream, "Stream the answers");
  load->add_option("--max-tokens", flags->max_tokens, "max_tokens of each request")
      ->capture_default_str();
  load->add_option("--max-in-flight", flags->max_in_flight, "Outstanding requests at most")
      ->capture_default_str();
  load->add_flag("--progress", flags->progress, "Report every second on stderr");
  load->callback([flags, action] { *action = [flags] { return runLoad(*flags); }; });
}

}  // namespace dw::app
