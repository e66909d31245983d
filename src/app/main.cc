// deepwatch: one binary, subcommands for every role (DESIGN.md, Layout: src/app).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "app/commands.h"
#include "base/log.h"

int main(int argc, char** argv) {
  CLI::App app("deepwatch: keeps LLM inference services healthy in production", "deepwatch");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("deepwatch ") + DW_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  dw::app::Action action;
  dw::app::addServeCommand(app, &action);
  dw::app::addModelCommand(app, &action);
  dw::app::addBaselineCommand(app, &action);
  dw::app::addAlertsCommand(app, &action);
  dw::app::addLoadCommand(app, &action);
  dw::app::addCtlCommand(app, &action);
  dw::app::addAuditCommand(app, &action);
  dw::app::addReportCommand(app, &action);
  dw::app::addDrillCommand(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (dw::Status status = dw::initLogging(log_level); !status.ok()) {
    std::fprintf(stderr, "deepwatch: %s\n", status.message().c_str());
    return 2;
  }
  return action ? action() : 0;
}
