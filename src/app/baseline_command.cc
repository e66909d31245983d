// `deepwatch baseline capture|export|import`: drift baselines through the admin API.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/admin_key.h"
#include "app/commands.h"
#include "net/http_client.h"

namespace dw::app {
namespace {

struct BaselineFlags {
  std::string admin = "http://127.0.0.1:9090";
  std::string model;
  std::string window;
  std::string file;
  std::string key;
};

int call(std::string_view method, const std::string& url, const std::string& body,
         const std::string& out_file, const std::string& key) {
  auto answer = net::httpCall(method, url, body, std::chrono::seconds(10), adminKey(key));
  if (!answer.ok()) {
    std::fprintf(stderr, "deepwatch baseline: %s\n", answer.status().message().c_str());
    return 1;
  }
  if (answer->status != 200) {
    std::fprintf(stderr, "deepwatch baseline: HTTP %d: %s\n", answer->status, answer->body.c_str());
    return 1;
  }
  if (!out_file.empty()) {
    std::ofstream out(out_file, std::ios::binary);
    out << answer->body << "\n";
    if (!out) {
      std::fprintf(stderr, "deepwatch baseline: cannot write %s\n", out_file.c_str());
      return 1;
    }
  } else {
    std::printf("%s\n", answer->body.c_str());
  }
  return 0;
}

}  // namespace

void addBaselineCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<BaselineFlags>();
  CLI::App* baseline = app.add_subcommand(
      "baseline", "Drift baselines: capture from a window, export and import as JSON");
  baseline->require_subcommand(1);
  addKeyOption(baseline, &flags->key);
  baseline->add_option("--admin", flags->admin, "The gateway's admin listener")
      ->capture_default_str();
  auto url = [flags] { return flags->admin + "/admin/v1/baselines/" + flags->model; };

  CLI::App* capture = baseline->add_subcommand("capture", "Capture a model's baseline now");
  capture->add_option("--model", flags->model, "The model")->required();
  capture->add_option("--window", flags->window, "Which window (default: the drift window)");
  capture->add_option("-o,--output", flags->file, "Also write the baseline to this file");
  capture->callback([=] {
    *action = [=] {
      std::string target = url();
      if (!flags->window.empty()) {
        target += "?window=" + flags->window;
      }
      return call("POST", target, "", flags->file, flags->key);
    };
  });

  CLI::App* exporter = baseline->add_subcommand("export", "Print (or write) a model's baseline");
  exporter->add_option("--model", flags->model, "The model")->required();
  exporter->add_option("-o,--output", flags->file, "Write to this file instead of stdout");
  exporter->callback(
      [=] { *action = [=] { return call("GET", url(), "", flags->file, flags->key); }; });

  CLI::App* importer = baseline->add_subcommand("import", "Load a baseline from a JSON file");
  importer->add_option("--model", flags->model, "The model")->required();
  importer->add_option("-f,--file", flags->file, "The baseline JSON")->required();
  importer->callback([=] {
    *action = [=] {
      std::ifstream in(flags->file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "deepwatch baseline: cannot read %s\n", flags->file.c_str());
        return 1;
      }
      std::stringstream content;
      content << in.rdbuf();
      return call("PUT", url(), content.str(), "", flags->key);
    };
  });
}

}  // namespace dw::app
