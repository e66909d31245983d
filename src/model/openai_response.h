// Response bodies of the reference model's OpenAI API (ECOSYSTEM.md 1.3-1.9): complete
// responses, SSE chunks, model lists and embeddings. Plain functions, kept out of the server's
// coroutines (which only pace and write them).
//
// Thread contract: pure functions; a CompletionFormatter belongs to one request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/openai_request.h"
#include "model/reference_model.h"

namespace dw::model {

// Serialises one completion (chat or text, streamed or not) in the OpenAI shapes.
class CompletionFormatter {
 public:
  CompletionFormatter(std::string id, int64_t created, std::string model, std::string fingerprint,
                      bool chat, const CompletionRequest& request);

  // Streaming: "data: {...}\n\n" events.
  std::string roleEvent() const;  // Chat only: the first delta, role "assistant".
  std::string tokenEvent(const GeneratedToken& token, size_t text_offset) const;
  std::string finishEvent(std::string_view finish_reason) const;
  std::string usageEvent(int prompt_tokens, int completion_tokens) const;

  // Non-streamed: the whole response object.
  std::string response(const std::vector<GeneratedToken>& tokens, std::string_view finish_reason,
                       int prompt_tokens) const;

 private:
  std::string event(std::string body) const;

  std::string id_;
  int64_t created_;
  std::string model_;
  std::string fingerprint_;
  bool chat_;
  bool logprobs_;
  bool include_usage_;
};

std::string modelObjectJson(const std::string& name, int64_t created, int max_model_len);
std::string modelListJson(const std::string& name, int64_t created, int max_model_len);
std::string healthJson(const std::string& name, const std::string& version,
                       std::string_view quality);

// Embeds every input; `*prompt_tokens` receives the tokens counted.
std::string embeddingsJson(const ReferenceModel& model, const std::string& name,
                           const EmbeddingRequest& request, int* prompt_tokens);

// Standard base64 (RFC 4648, with padding).
std::string base64Encode(std::string_view bytes);

}  // namespace dw::model
