// `deepwatch model serve` and `deepwatch model eval`.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/process.h"
#include "base/log.h"
#include "model/reference_model.h"
#include "model/server.h"

namespace dw::app {
namespace {

// Converts a CLI duration string, reporting a bad one as a CLI validation error.
std::function<std::string(const std::string&)> durationValidator() {
  return [](const std::string& text) -> std::string {
    auto parsed = parseDuration(text);
    return parsed.ok() ? std::string() : parsed.status().message();
  };
}

Duration mustDuration(const std::string& text) { return parseDuration(text).value(); }

struct ServeFlags {
  model::ModelServerOptions options;
  std::string port_file;
  std::string quality = "normal";
  std::string prefill_latency = "0";
  std::string token_latency = "0";
  std::string load_delay = "0";
  std::string fault_latency = "0";
  std::string fault_jitter = "0";
  std::string fault_distribution = "fixed";
  int fault_crash_after = 0;
  bool fault_hang = false;
};

int runServe(ServeFlags& flags) {
  auto& options = flags.options;
  auto quality = model::parseQuality(flags.quality);
  auto distribution = model::parseLatencyDistribution(flags.fault_distribution);
  if (!quality.ok() || !distribution.ok()) {
    std::fprintf(stderr, "deepwatch model serve: %s\n",
                 (!quality.ok() ? quality.status() : distribution.status()).message().c_str());
    return 2;
  }
  options.faults.quality = *quality;
  options.faults.distribution = *distribution;
  options.faults.latency = mustDuration(flags.fault_latency);
  options.faults.jitter = mustDuration(flags.fault_jitter);
  options.faults.crash_after = flags.fault_crash_after;
  options.faults.hang = flags.fault_hang;
  options.prefill_latency = mustDuration(flags.prefill_latency);
  options.token_latency = mustDuration(flags.token_latency);
  options.load_delay = mustDuration(flags.load_delay);

  blockSignals();
  auto server = model::ModelServer::create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "deepwatch model serve: %s\n", server.status().toString().c_str());
    return 1;
  }
  (*server)->start();
  DW_LOG_INFO("model {} version {} listening on {}:{}", options.model_name, options.version,
              options.host, (*server)->port());
  if (!flags.port_file.empty()) {
    if (Status status = writePortFile(flags.port_file, (*server)->port()); !status.ok()) {
      DW_LOG_ERROR("{}", status.toString());
      (*server)->stop();
      return 1;
    }
  }
  int signal = waitForSignal();
  DW_LOG_INFO("signal {}: draining", signal);
  (*server)->stop();
  return 0;
}

int runEval(const std::string& version, const std::string& fortune_dir, bool json) {
  auto recipe = model::findRecipe(version);
  if (!recipe.ok()) {
    std::fprintf(stderr, "deepwatch model eval: %s\n", recipe.status().message().c_str());
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  auto corpus = model::loadCorpus(fortune_dir, recipe->categories, recipe->max_per_category);
  if (!corpus.ok()) {
    std::fprintf(stderr, "deepwatch model eval: %s\n", corpus.status().message().c_str());
    return 1;
  }
  auto model = model::ReferenceModel::train(*corpus, *recipe);
  if (!model.ok()) {
    std::fprintf(stderr, "deepwatch model eval: %s\n", model.status().message().c_str());
    return 1;
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& held_out = (*model)->heldOut();
  model::Evaluation normal = (*model)->evaluate(held_out, model::Quality::kNormal);
  model::Evaluation degraded = (*model)->evaluate(held_out, model::Quality::kDegraded);
  if (json) {
    std::printf(
        "{\"version\":\"%s\",\"training_documents\":%zu,\"held_out_documents\":%zu,"
        "\"accuracy\":%.4f,\"degraded_accuracy\":%.4f,\"perplexity\":%.2f,"
        "\"train_seconds\":%.2f}\n",
        version.c_str(), (*model)->trainingDocuments(), held_out.size(), normal.accuracy,
        degraded.accuracy, normal.perplexity, train_seconds);
    return 0;
  }
  std::printf("version            %s (%s)\n", version.c_str(), recipe->description.c_str());
  std::printf("training documents %zu, held out %zu, trained in %.2f s\n",
              (*model)->trainingDocuments(), held_out.size(), train_seconds);
  std::printf("classifier accuracy %.4f (degraded quality: %.4f)\n", normal.accuracy,
              degraded.accuracy);
  std::printf("generator perplexity %.2f\n", normal.perplexity);
  std::printf("per category:\n");
  for (size_t c = 0; c < (*model)->labels().size(); ++c) {
    std::printf("  %-10s %.4f (degraded %.4f)\n", (*model)->labels()[c].c_str(),
                normal.per_class_accuracy[c], degraded.per_class_accuracy[c]);
  }
  return 0;
}

// Writes the held-out fortunes as a golden set (one JSON object per line) for the controller's
// probes: classification requests with the expected label.
int runGoldenSet(const std::string& version, const std::string& fortune_dir,
                 const std::string& out_path, size_t count) {
  auto recipe = model::findRecipe(version);
  if (!recipe.ok()) {
    std::fprintf(stderr, "deepwatch model goldenset: %s\n", recipe.status().message().c_str());
    return 2;
  }
  auto corpus = model::loadCorpus(fortune_dir, recipe->categories, recipe->max_per_category);
  if (!corpus.ok()) {
    std::fprintf(stderr, "deepwatch model goldenset: %s\n", corpus.status().message().c_str());
    return 1;
  }
  const model::Split split =
      model::splitHeldOut(corpus->documents, recipe->split_seed, recipe->held_out_fraction);
  std::ofstream out(out_path, std::ios::binary);
  if (!out) {
    std::fprintf(stderr, "deepwatch model goldenset: cannot write %s\n", out_path.c_str());
    return 1;
  }
  // Round-robin over the categories, so that any prefix of the set (and any random sample of
  // it) has every category in about equal measure.
  std::vector<std::vector<const model::Document*>> by_label(corpus->categories.size());
  for (const model::Document& doc : split.test) {
    by_label[doc.label].push_back(&doc);
  }
  std::vector<const model::Document*> ordered;
  for (size_t round = 0; ordered.size() < split.test.size(); ++round) {
    for (const auto& docs : by_label) {
      if (round < docs.size()) {
        ordered.push_back(docs[round]);
      }
    }
  }
  size_t written = 0;
  for (const model::Document* doc_ptr : ordered) {
    const model::Document& doc = *doc_ptr;
    if (written >= count) {
      break;
    }
    nlohmann::json entry = {{"messages",
                             {{{"role", "system"}, {"content", "classify"}},
                              {{"role", "user"}, {"content", doc.text}}}},
                            {"expected", corpus->categories[doc.label]},
                            {"match", "exact"}};
    out << entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    ++written;
  }
  std::fprintf(stderr, "wrote %zu probes to %s\n", written, out_path.c_str());
  return out ? 0 : 1;
}

}  // namespace

void addModelCommand(CLI::App& app, Action* action) {
  CLI::App* model = app.add_subcommand("model",
                                       "The reference model (n-gram generator and "
                                       "naive Bayes topic classifier over fortunes)");
  model->require_subcommand(1);

  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = model->add_subcommand("serve", "Serve the reference model with the OpenAI API");
  auto& o = flags->options;
  serve->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  serve->add_option("--port", o.port, "Port to listen on (0: the OS picks one)")
      ->capture_default_str();
  serve->add_option("--port-file", flags->port_file, "Write the bound port to this file");
  serve->add_option("--version", o.version, "Version id; selects the training recipe")
      ->capture_default_str();
  serve->add_option("--model-name", o.model_name, "The served model name")->capture_default_str();
  serve->add_option("--quality", flags->quality, "normal or degraded (noisy training labels)")
      ->capture_default_str();
  serve->add_option("--fortune-dir", o.fortune_dir, "Where the fortune files are")
      ->capture_default_str();
  serve->add_option("--max-concurrency", o.max_concurrency, "Requests generating at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  serve->add_option("--max-waiting", o.max_waiting, "Queued requests beyond that; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  serve->add_option("--max-model-len", o.max_model_len, "Context length in tokens")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 20));
  serve->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body (413 above)")
      ->capture_default_str();
  serve->add_option("--prefill-latency", flags->prefill_latency, "Delay before the first token")
      ->capture_default_str()
      ->check(durationValidator());
  serve->add_option("--token-latency", flags->token_latency, "Delay between tokens")
      ->capture_default_str()
      ->check(durationValidator());
  serve->add_option("--load-delay", flags->load_delay, "Extra loading time (slow start fault)")
      ->capture_default_str()
      ->check(durationValidator());
  serve->add_option("--seed", o.seed, "Seed for requests without one (0: from the clock)");
  serve->add_option("--fault-latency", flags->fault_latency, "Injected latency per request")
      ->capture_default_str()
      ->check(durationValidator());
  serve->add_option("--fault-jitter", flags->fault_jitter, "Spread of the injected latency")
      ->capture_default_str()
      ->check(durationValidator());
  serve
      ->add_option("--fault-distribution", flags->fault_distribution,
                   "fixed, uniform, normal or exponential")
      ->capture_default_str();
  serve->add_option("--fault-error-rate", o.faults.error_rate, "Share of requests that fail")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  serve->add_option("--fault-error-status", o.faults.error_status, "Status of injected errors")
      ->capture_default_str()
      ->check(CLI::Range(400, 599));
  serve
      ->add_option("--fault-crash-after", flags->fault_crash_after,
                   "Kill the process on the Nth inference request (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve->add_flag("--fault-hang", flags->fault_hang, "Never answer inference requests");
  serve->callback([flags, action] { *action = [flags] { return runServe(*flags); }; });

  auto version = std::make_shared<std::string>("v1");
  auto fortune_dir = std::make_shared<std::string>(std::string(model::kDefaultFortuneDir));
  auto json = std::make_shared<bool>(false);
  CLI::App* eval = model->add_subcommand(
      "eval", "Train a version and print its accuracy and perplexity on the held-out split");
  eval->add_option("--version", *version, "Version id")->capture_default_str();
  eval->add_option("--fortune-dir", *fortune_dir, "Where the fortune files are")
      ->capture_default_str();
  eval->add_flag("--json", *json, "Print one JSON object");
  eval->callback([=] { *action = [=] { return runEval(*version, *fortune_dir, *json); }; });

  auto golden_out = std::make_shared<std::string>();
  auto golden_count = std::make_shared<size_t>(2000);
  CLI::App* golden = model->add_subcommand(
      "goldenset", "Write the held-out fortunes as a golden set for the controller's probes");
  golden->add_option("--version", *version, "Version id (the split is the same for all)")
      ->capture_default_str();
  golden->add_option("--fortune-dir", *fortune_dir, "Where the fortune files are")
      ->capture_default_str();
  golden->add_option("-o,--out", *golden_out, "The JSONL file to write")->required();
  golden->add_option("--count", *golden_count, "At most this many probes")->capture_default_str();
  golden->callback([=] {
    *action = [=] { return runGoldenSet(*version, *fortune_dir, *golden_out, *golden_count); };
  });
}

}  // namespace dw::app
