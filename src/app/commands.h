// Subcommands of the deepwatch binary. Each add*Command registers its CLI11 subcommand; when
// that subcommand is chosen, parsing stores in `*action` the function that runs it, and main()
// calls it after logging is set up. The action's return value is the exit status.
#pragma once

#include <CLI/App.hpp>

#include <functional>

namespace dw::app {

using Action = std::function<int()>;

void addModelCommand(CLI::App& app, Action* action);
void addServeCommand(CLI::App& app, Action* action);
void addBaselineCommand(CLI::App& app, Action* action);
void addAlertsCommand(CLI::App& app, Action* action);
void addLoadCommand(CLI::App& app, Action* action);
void addCtlCommand(CLI::App& app, Action* action);
void addAuditCommand(CLI::App& app, Action* action);
void addReportCommand(CLI::App& app, Action* action);
void addDrillCommand(CLI::App& app, Action* action);

}  // namespace dw::app
