// The key the command-line clients of the admin API (ctl, alerts, baseline, keys) present: the
// --key flag, else $DEEPWATCH_KEY, else the file in $DEEPWATCH_KEY_FILE, else the admin key file
// the gateway writes at its first start (var/demo/admin.key for `make run`, var/admin.key by
// default), whichever exists first. Empty when none: the gateway then answers 401.
#pragma once

#include <CLI/App.hpp>

#include <string>

namespace dw::app {

std::string adminKey(const std::string& flag);

// Adds --key to a subcommand.
void addKeyOption(CLI::App* command, std::string* key);

}  // namespace dw::app
