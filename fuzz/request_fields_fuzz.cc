// Fuzzes what the gateway reads from an API request body (R1.1, R10): gateway::RequestFieldParser
// (simdjson on-demand: `model`, `stream`, duplicate keys) with an observe::InputScanner examining
// `messages`, `prompt` and `input` on the way, as Proxy::proxyRequest runs them.
//
// Properties: with and without input features, an accepted body gives the same fields; the
// model token's offsets lie inside the body and delimit a JSON string; a body whose model is
// rewritten to a version's upstream name (rewriteModel, the path of every routed request)
// parses again to the same fields with the new name.
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "fuzz/fuzz_check.h"
#include "gateway/request_fields.h"
#include "observe/input_scanner.h"

namespace {

struct Parsed {
  bool ok = false;
  dw::gateway::RequestFields fields;
};

// Parses as the gateway does, with input features on (`scan`) or off.
Parsed parse(std::string_view body, bool scan) {
  static dw::gateway::RequestFieldParser parser;
  static const dw::observe::InputLimits limits{
      .max_prompt_tokens = 64, .max_char_run = 8, .max_token_run = 4, .scan_bytes = 512};
  dw::observe::InputScanner input(limits);
  Parsed out;
  dw::gateway::FieldError error;
  out.ok = parser.parse(body, &out.fields, &error, scan ? &input : nullptr);
  if (!out.ok) {
    DW_FUZZ_CHECK(!error.message.empty());
    DW_FUZZ_CHECK(!error.code.empty());
  } else {
    (void)input.abnormal();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Parsed scanned = parse(body, true);
  const Parsed plain = parse(body, false);
  // On valid JSON (what an upstream accepts), examining the input never changes what the gateway
  // reads. Malformed JSON may be refused in one mode and passed on in the other, even read from
  // another `model` key, since the on-demand parser skips unread values unvalidated; the upstream
  // refuses such a body.
  static simdjson::dom::parser validator;
  simdjson::dom::element element;
  const bool valid = validator.parse(body.data(), body.size()).get(element) == simdjson::SUCCESS;
  if (valid) {
    DW_FUZZ_CHECK(scanned.ok == plain.ok);
  }
  if (valid && scanned.ok && plain.ok) {
    DW_FUZZ_CHECK(scanned.fields.model == plain.fields.model);
    DW_FUZZ_CHECK(scanned.fields.stream == plain.fields.stream);
    DW_FUZZ_CHECK(scanned.fields.model_begin == plain.fields.model_begin);
  }
  if (!scanned.ok) {
    return 0;
  }
  const dw::gateway::RequestFields& fields = scanned.fields;
  DW_FUZZ_CHECK(fields.model_begin < fields.model_end);
  DW_FUZZ_CHECK(fields.model_end <= body.size());
  DW_FUZZ_CHECK(body[fields.model_begin] == '"');
  DW_FUZZ_CHECK(body[fields.model_end - 1] == '"');

  // The rewrite that routing does, to a name that needs escaping, read back the same way.
  static constexpr std::string_view kUpstream = "up\"stream\\/\u4e2d";
  const std::string rewritten = dw::gateway::rewriteModel(body, fields, kUpstream);
  const Parsed again = parse(rewritten, true);
  DW_FUZZ_CHECK(again.ok);
  DW_FUZZ_CHECK(again.fields.model == kUpstream);
  DW_FUZZ_CHECK(again.fields.stream == fields.stream);
  return 0;
}
