#include "model/openai_response.h"

#include <nlohmann/json.hpp>

namespace dw::model {

// Ordered, so that responses read in the order of the OpenAI reference (id, object, ...).
using json = nlohmann::ordered_json;

namespace {

std::string dumpJson(const json& value) {
  // Replace, never throw, on invalid UTF-8 (STYLE.md: no throw in src/).
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json bytesOf(std::string_view token) {
  json bytes = json::array();
  for (char c : token) {
    bytes.push_back(static_cast<unsigned char>(c));
  }
  return bytes;
}

json chatLogprob(const GeneratedToken& token) {
  json top = json::array();
  for (const TokenAlternative& alt : token.top) {
    top.push_back({{"token", alt.token}, {"logprob", alt.logprob}, {"bytes", bytesOf(alt.token)}});
  }
  return {{"token", token.text},
          {"logprob", token.logprob},
          {"bytes", bytesOf(token.text)},
          {"top_logprobs", std::move(top)}};
}

json chatLogprobs(const std::vector<GeneratedToken>& tokens) {
  json content = json::array();
  for (const GeneratedToken& token : tokens) {
    content.push_back(chatLogprob(token));
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

// The legacy /v1/completions logprobs object (ECOSYSTEM.md 1.5).
json legacyLogprobs(const std::vector<GeneratedToken>& tokens, size_t text_offset) {
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const GeneratedToken& token : tokens) {
    out["tokens"].push_back(token.text);
    out["token_logprobs"].push_back(token.logprob);
    json top = json::object();
    for (const TokenAlternative& alt : token.top) {
      top[alt.token] = alt.logprob;
    }
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(text_offset);
    text_offset += token.text.size();
  }
  return out;
}

json usageJson(int prompt_tokens, int completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", 0}}},
          {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
}

}  // namespace

CompletionFormatter::CompletionFormatter(std::string id, int64_t created, std::string model,
                                         std::string fingerprint, bool chat,
                                         const CompletionRequest& request)
    : id_(std::move(id)),
      created_(created),
      model_(std::move(model)),
      fingerprint_(std::move(fingerprint)),
      chat_(chat),
      logprobs_(request.logprobs),
      include_usage_(request.include_usage) {}

std::string CompletionFormatter::event(std::string body) const {
  std::string out = "data: ";
  out += body;
  out += "\n\n";
  return out;
}

namespace {
json chunkBase(const std::string& id, int64_t created, const std::string& model,
               const std::string& fingerprint, bool chat, bool include_usage) {
  json chunk = {{"id", id},
                {"object", chat ? "chat.completion.chunk" : "text_completion"},
                {"created", created},
                {"model", model},
                {"system_fingerprint", fingerprint}};
  if (include_usage) {
    chunk["usage"] = nullptr;  // Every chunk but the last carries "usage": null (ECOSYSTEM 1.4).
  }
  return chunk;
}
}  // namespace

std::string CompletionFormatter::roleEvent() const {
  json chunk = chunkBase(id_, created_, model_, fingerprint_, chat_, include_usage_);
  chunk["choices"] = json::array({{{"index", 0},
                                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}});
  return event(dumpJson(chunk));
}

std::string CompletionFormatter::tokenEvent(const GeneratedToken& token, size_t text_offset) const {
  json chunk = chunkBase(id_, created_, model_, fingerprint_, chat_, include_usage_);
  json choice = {{"index", 0}, {"finish_reason", nullptr}};
  if (chat_) {
    choice["delta"] = {{"content", token.text}};
    choice["logprobs"] = logprobs_ ? chatLogprobs({token}) : json(nullptr);
  } else {
    choice["text"] = token.text;
    choice["logprobs"] = logprobs_ ? legacyLogprobs({token}, text_offset) : json(nullptr);
  }
  chunk["choices"] = json::array({std::move(choice)});
  return event(dumpJson(chunk));
}

std::string CompletionFormatter::finishEvent(std::string_view finish_reason) const {
  json chunk = chunkBase(id_, created_, model_, fingerprint_, chat_, include_usage_);
  json choice = {{"index", 0}, {"finish_reason", finish_reason}, {"logprobs", nullptr}};
  if (chat_) {
    choice["delta"] = json::object();
  } else {
    choice["text"] = "";
  }
  chunk["choices"] = json::array({std::move(choice)});
  return event(dumpJson(chunk));
}

std::string CompletionFormatter::usageEvent(int prompt_tokens, int completion_tokens) const {
  json chunk = chunkBase(id_, created_, model_, fingerprint_, chat_, false);
  chunk["choices"] = json::array();
  chunk["usage"] = usageJson(prompt_tokens, completion_tokens);
  return event(dumpJson(chunk));
}

std::string CompletionFormatter::response(const std::vector<GeneratedToken>& tokens,
                                          std::string_view finish_reason, int prompt_tokens) const {
  std::string text;
  for (const GeneratedToken& token : tokens) {
    text += token.text;
  }
  json out = {{"id", id_},
              {"object", chat_ ? "chat.completion" : "text_completion"},
              {"created", created_},
              {"model", model_},
              {"system_fingerprint", fingerprint_}};
  json choice = {{"index", 0}, {"finish_reason", finish_reason}};
  if (chat_) {
    choice["message"] = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
    choice["logprobs"] = logprobs_ ? chatLogprobs(tokens) : json(nullptr);
  } else {
    choice["text"] = text;
    choice["logprobs"] = logprobs_ ? legacyLogprobs(tokens, 0) : json(nullptr);
  }
  out["choices"] = json::array({std::move(choice)});
  out["usage"] = usageJson(prompt_tokens, static_cast<int>(tokens.size()));
  return dumpJson(out);
}

namespace {
json modelObject(const std::string& name, int64_t created, int max_model_len) {
  return {{"id", name},         {"object", "model"},
          {"created", created}, {"owned_by", "deepwatch"},
          {"root", name},       {"max_model_len", max_model_len}};
}
}  // namespace

std::string modelObjectJson(const std::string& name, int64_t created, int max_model_len) {
  return dumpJson(modelObject(name, created, max_model_len));
}

std::string modelListJson(const std::string& name, int64_t created, int max_model_len) {
  return dumpJson(
      {{"object", "list"}, {"data", json::array({modelObject(name, created, max_model_len)})}});
}

std::string healthJson(const std::string& name, const std::string& version,
                       std::string_view quality) {
  return dumpJson({{"status", "ok"}, {"model", name}, {"version", version}, {"quality", quality}});
}

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    if (i + 2 < bytes.size()) {
      n |= static_cast<unsigned char>(bytes[i + 2]);
    }
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

std::string embeddingsJson(const ReferenceModel& model, const std::string& name,
                           const EmbeddingRequest& request, int* prompt_tokens) {
  json data = json::array();
  int tokens = 0;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    tokens += model.countTokens(request.inputs[i]);
    std::vector<float> vector = model.embed(request.inputs[i], request.dimensions);
    json item = {{"object", "embedding"}, {"index", i}};
    if (request.base64) {
      // Little-endian IEEE-754 float32, base64: what the Node SDK decodes (ECOSYSTEM.md 1.9).
      item["embedding"] = base64Encode(std::string_view(
          reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float)));
    } else {
      item["embedding"] = vector;
    }
    data.push_back(std::move(item));
  }
  *prompt_tokens = tokens;
  return dumpJson({{"object", "list"},
                   {"data", std::move(data)},
                   {"model", name},
                   {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

}  // namespace dw::model
