// Fuzzes what the gateway reads from an API request body (R1.1, R10): gateway::RequestFieldParser
// (simdjson on-demand: `model`, `stream`, duplicate keys) with an observe::InputScanner examining
// `messages`, `prompt` and `input` on the way, as Proxy::proxyRequest runs them.
//
// Properties: the model token's offsets lie inside the body and delimit a JSON string; a body
// whose model is rewritten to a version's upstream name (rewriteModel, the path of every routed
// request) parses again to the same fields with the new name.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "gateway/request_fields.h"
#include "observe/input_scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dw::gateway::RequestFieldParser parser;
  static const dw::observe::InputLimits limits{
      .max_prompt_tokens = 64, .max_char_run = 8, .max_token_run = 4, .scan_bytes = 512};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  dw::observe::InputScanner input(limits);
  dw::gateway::RequestFields fields;
  dw::gateway::FieldError error;
  if (!parser.parse(body, &fields, &error, &input)) {
    DW_FUZZ_CHECK(!error.message.empty());
    DW_FUZZ_CHECK(!error.code.empty());
    return 0;
  }
  (void)input.abnormal();
  DW_FUZZ_CHECK(fields.model_begin < fields.model_end);
  DW_FUZZ_CHECK(fields.model_end <= body.size());
  DW_FUZZ_CHECK(body[fields.model_begin] == '"');
  DW_FUZZ_CHECK(body[fields.model_end - 1] == '"');

  // The rewrite that routing does, to a name that needs escaping.
  static constexpr std::string_view kUpstream = "up\"stream\\/\u4e2d";
  const std::string rewritten = dw::gateway::rewriteModel(body, fields, kUpstream);
  dw::gateway::RequestFields again;
  DW_FUZZ_CHECK(parser.parse(rewritten, &again, &error, nullptr));
  DW_FUZZ_CHECK(again.model == kUpstream);
  DW_FUZZ_CHECK(again.stream == fields.stream);
  return 0;
}
