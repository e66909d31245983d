// Fuzzes the YAML configuration loader (R9, R10): the text of `deepwatch serve -c FILE` through
// gateway::parseGatewayConfig (listeners, limits, models, security, observe) and then the
// sections that layers above read, as serve_command.cc does: detect's `alerting:` and control's
// `control:`. A config file is operator input, but a typo or a truncated file must give an error
// naming file:line, never a crash, a hang or an exception escaping yaml-cpp's adapter.
#include <cstdint>
#include <string_view>

#include "control/control_config.h"
#include "detect/alerting.h"
#include "fuzz/fuzz_check.h"
#include "gateway/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = dw::gateway::parseGatewayConfig(text, "fuzz.yaml");
  if (!config.ok()) {
    DW_FUZZ_CHECK(config.status().message().starts_with("fuzz.yaml"));
    return 0;
  }
  auto alerting = dw::detect::parseAlertingConfig(config->alerting, config->file);
  if (!alerting.ok()) {
    DW_FUZZ_CHECK(alerting.status().message().starts_with("fuzz.yaml"));
  }
  auto control = dw::control::parseControlConfig(config->control, config->file);
  if (!control.ok()) {
    DW_FUZZ_CHECK(control.status().message().starts_with("fuzz.yaml"));
  }
  return 0;
}
