// Reads what routing needs from an API request body, and nothing more: the `model` and `stream`
// fields, with simdjson's on-demand parser (the hot path; DESIGN.md, Dependencies). The body is
// forwarded byte for byte, so unknown fields (`thinking`, `reasoning_content`, `top_k`...) pass
// through untouched.
//
// Thread contract: a RequestFieldParser is worker-local (it owns reusable parser buffers).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "observe/input_scanner.h"

namespace dw::gateway {

struct RequestFields {
  std::string model;
  bool stream = false;
  // Where the model's JSON string token (quotes included) sits in the body, for rewriting it to
  // a version's upstream model name.
  size_t model_begin = 0;
  size_t model_end = 0;
};

struct FieldError {
  std::string message;
  std::string param;
  std::string code;
};

class RequestFieldParser {
 public:
  RequestFieldParser();
  ~RequestFieldParser();

  // Requires the body to be a JSON object with a string `model`. A duplicated `model` key is
  // rejected: the gateway and the upstream could each read a different one. With `input`, the
  // text of `messages`, `prompt` or `input` is examined on the way (R1.1 input features).
  bool parse(std::string_view body, RequestFields* out, FieldError* error,
             observe::InputScanner* input = nullptr);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns `body` with the model value replaced by `model` (a JSON string token is written).
std::string rewriteModel(std::string_view body, const RequestFields& fields,
                         std::string_view model);

}  // namespace dw::gateway
