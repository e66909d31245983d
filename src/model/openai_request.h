// Parsing and validation of OpenAI-style requests for the reference model (ECOSYSTEM.md 1.2,
// 1.8, 1.9). Every rejection names the offending field in `param`, as OpenAI does, so a client
// learns what to fix; unknown fields are accepted and ignored.
//
// Thread contract: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dw::model {

// An error as the API reports it: HTTP status plus the OpenAI error object.
struct ApiError {
  ApiError() = default;
  // A constructor rather than aggregate initialisation: g++ 12 rejects braced aggregates with
  // string literals inside co_await expressions ("array used as initializer").
  ApiError(int status_in, std::string message_in, std::string type_in, std::string param_in,
           std::string code_in)
      : status(status_in),
        message(std::move(message_in)),
        type(std::move(type_in)),
        param(std::move(param_in)),
        code(std::move(code_in)) {}

  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  std::string code;
};

enum class Task { kGenerate, kClassify };

// What chat and text completions have in common once parsed.
struct CompletionRequest {
  std::string model;
  std::string prompt;       // The text to continue or classify.
  std::string full_prompt;  // Every message's text, for usage.prompt_tokens.
  Task task = Task::kGenerate;
  bool stream = false;
  bool include_usage = false;
  std::optional<int> max_tokens;
  double temperature = 1.0;
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;  // Chat: 0..20. Text completions: the legacy integer logprobs, 0..5.
};

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> inputs;
  bool base64 = false;
  int dimensions = 256;
};

// `POST /v1/chat/completions`. Classification is asked for with a system (or developer) message
// whose whole content is "classify", or with the extension field {"deepwatch": {"task":
// "classify"}}; the last user message is what is classified or continued.
bool parseChatRequest(std::string_view body, CompletionRequest* out, ApiError* error);

// `POST /v1/completions`; `prompt` is a string or an array holding one string.
bool parseCompletionRequest(std::string_view body, CompletionRequest* out, ApiError* error);

// `POST /v1/embeddings`.
bool parseEmbeddingRequest(std::string_view body, EmbeddingRequest* out, ApiError* error);

}  // namespace dw::model
