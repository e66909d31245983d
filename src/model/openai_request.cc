#include "model/openai_request.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace dw::model {
namespace {

using nlohmann::json;

bool fail(ApiError* error, std::string param, std::string message) {
  error->status = 400;
  error->type = "invalid_request_error";
  error->param = std::move(param);
  error->code = "invalid_value";
  error->message = std::move(message);
  return false;
}

// Parses the body as a JSON object; nlohmann's non-throwing overload (no exceptions in src/).
bool parseObject(std::string_view body, json* out, ApiError* error) {
  *out = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    error->status = 400;
    error->param.clear();
    error->code = "invalid_json";
    error->message = "We could not parse the JSON body of your request.";
    return false;
  }
  if (!out->is_object()) {
    return fail(error, "", "The request body must be a JSON object.");
  }
  return true;
}

bool isNull(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null();
}

bool getString(const json& object, const char* key, bool required, std::string* out,
               ApiError* error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return required ? fail(error, key, fmt::format("'{}' is a required property.", key)) : true;
  }
  if (!it->is_string()) {
    return fail(error, key, fmt::format("'{}' must be a string.", key));
  }
  *out = it->get<std::string>();
  return true;
}

bool getBool(const json& object, const char* key, bool* out, ApiError* error) {
  if (isNull(object, key)) {
    return true;
  }
  const json& value = object.at(key);
  if (!value.is_boolean()) {
    return fail(error, key, fmt::format("'{}' must be a boolean.", key));
  }
  *out = value.get<bool>();
  return true;
}

bool getNumber(const json& object, const char* key, double min, double max, double* out,
               ApiError* error) {
  if (isNull(object, key)) {
    return true;
  }
  const json& value = object.at(key);
  if (!value.is_number()) {
    return fail(error, key, fmt::format("'{}' must be a number.", key));
  }
  double v = value.get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return fail(error, key, fmt::format("'{}' must be between {} and {}.", key, min, max));
  }
  *out = v;
  return true;
}

bool getInt(const json& object, const char* key, int64_t min, int64_t max,
            std::optional<int64_t>* out, ApiError* error) {
  if (isNull(object, key)) {
    return true;
  }
  const json& value = object.at(key);
  if (!value.is_number_integer()) {
    return fail(error, key, fmt::format("'{}' must be an integer.", key));
  }
  int64_t v = value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX
                  ? INT64_MAX
                  : value.get<int64_t>();
  if (v < min || v > max) {
    return fail(error, key, fmt::format("'{}' must be between {} and {}.", key, min, max));
  }
  *out = v;
  return true;
}

// Text of a message's content: a string, or the text parts of an array of parts.
bool contentText(const json& content, const std::string& param, std::string* out, ApiError* error) {
  if (content.is_null()) {
    return true;
  }
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) {
    return fail(error, param, "'content' must be a string or an array of content parts.");
  }
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return fail(error, fmt::format("{}[{}]", param, i), "Each content part needs a 'type'.");
    }
    if (part["type"] == "text") {
      if (!part.contains("text") || !part["text"].is_string()) {
        return fail(error, fmt::format("{}[{}].text", param, i), "A text part needs 'text'.");
      }
      if (!out->empty()) {
        out->push_back('\n');
      }
      *out += part["text"].get<std::string>();
    }
  }
  return true;
}

// The fields chat and text completions share.
bool parseCommon(const json& body, CompletionRequest* out, ApiError* error) {
  if (!getString(body, "model", true, &out->model, error) ||
      !getBool(body, "stream", &out->stream, error) ||
      !getNumber(body, "temperature", 0, 2, &out->temperature, error) ||
      !getNumber(body, "top_p", 0, 1, &out->top_p, error)) {
    return false;
  }
  std::optional<int64_t> value;
  if (!getInt(body, "max_tokens", 1, 1 << 20, &value, error)) {
    return false;
  }
  if (value) {
    out->max_tokens = static_cast<int>(*value);
  }
  value.reset();
  if (!getInt(body, "max_completion_tokens", 1, 1 << 20, &value, error)) {
    return false;
  }
  if (value) {
    out->max_tokens = static_cast<int>(*value);
  }
  value.reset();
  if (!getInt(body, "n", 1, 128, &value, error)) {
    return false;
  }
  if (value && *value != 1) {
    return fail(error, "n", "The reference model generates one choice per request; 'n' must be 1.");
  }
  value.reset();
  if (!getInt(body, "seed", INT64_MIN, INT64_MAX, &value, error)) {
    return false;
  }
  if (value) {
    out->seed = static_cast<uint64_t>(*value);
  }
  if (!isNull(body, "stop")) {
    const json& stop = body["stop"];
    if (stop.is_string()) {
      out->stop.push_back(stop.get<std::string>());
    } else if (stop.is_array() && stop.size() <= 4) {
      for (const json& s : stop) {
        if (!s.is_string()) {
          return fail(error, "stop", "'stop' must hold strings.");
        }
        out->stop.push_back(s.get<std::string>());
      }
    } else {
      return fail(error, "stop", "'stop' must be a string or an array of up to 4 strings.");
    }
  }
  if (!isNull(body, "stream_options")) {
    const json& options = body["stream_options"];
    if (!options.is_object()) {
      return fail(error, "stream_options", "'stream_options' must be an object.");
    }
    if (!out->stream) {
      return fail(error, "stream_options",
                  "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    }
    if (!getBool(options, "include_usage", &out->include_usage, error)) {
      error->param = "stream_options.include_usage";
      return false;
    }
  }
  if (!isNull(body, "deepwatch")) {
    const json& extension = body["deepwatch"];
    if (!extension.is_object()) {
      return fail(error, "deepwatch", "'deepwatch' must be an object.");
    }
    std::string task;
    if (!getString(extension, "task", false, &task, error)) {
      error->param = "deepwatch.task";
      return false;
    }
    if (task == "classify") {
      out->task = Task::kClassify;
    } else if (!task.empty() && task != "generate") {
      return fail(error, "deepwatch.task", "'deepwatch.task' must be 'generate' or 'classify'.");
    }
  }
  return true;
}

}  // namespace

bool parseChatRequest(std::string_view text, CompletionRequest* out, ApiError* error) {
  json body;
  if (!parseObject(text, &body, error) || !parseCommon(body, out, error)) {
    return false;
  }
  auto messages = body.find("messages");
  if (messages == body.end() || messages->is_null()) {
    return fail(error, "messages", "'messages' is a required property.");
  }
  if (!messages->is_array() || messages->empty()) {
    return fail(error, "messages", "'messages' must be a non-empty array.");
  }
  bool found_user = false;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (!message.is_object()) {
      return fail(error, param, "Each message must be an object.");
    }
    std::string role;
    if (!getString(message, "role", true, &role, error)) {
      error->param = param + ".role";
      return false;
    }
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
        role != "tool" && role != "function") {
      return fail(error, param + ".role", fmt::format("'{}' is not a valid role.", role));
    }
    std::string content;
    auto it = message.find("content");
    if (it == message.end() && role != "assistant") {
      return fail(error, param + ".content", "'content' is a required property.");
    }
    if (it != message.end() && !contentText(*it, param + ".content", &content, error)) {
      return false;
    }
    if ((role == "system" || role == "developer")) {
      std::string trimmed = content;
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
        trimmed.pop_back();
      }
      size_t start = trimmed.find_first_not_of(" \t\n");
      trimmed = start == std::string::npos ? "" : trimmed.substr(start);
      for (char& c : trimmed) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (trimmed == "classify") {
        out->task = Task::kClassify;
      }
    }
    if (role == "user") {
      out->prompt = content;
      found_user = true;
    }
    if (!out->full_prompt.empty() && !content.empty()) {
      out->full_prompt.push_back('\n');
    }
    out->full_prompt += content;
  }
  if (!found_user) {
    return fail(error, "messages", "'messages' must contain a user message.");
  }
  if (!getBool(body, "logprobs", &out->logprobs, error)) {
    return false;
  }
  std::optional<int64_t> top;
  if (!getInt(body, "top_logprobs", 0, 20, &top, error)) {
    return false;
  }
  if (top) {
    if (!out->logprobs) {
      return fail(error, "top_logprobs", "'top_logprobs' requires 'logprobs' to be true.");
    }
    out->top_logprobs = static_cast<int>(*top);
  }
  return true;
}

bool parseCompletionRequest(std::string_view text, CompletionRequest* out, ApiError* error) {
  json body;
  if (!parseObject(text, &body, error) || !parseCommon(body, out, error)) {
    return false;
  }
  auto prompt = body.find("prompt");
  if (prompt == body.end() || prompt->is_null()) {
    return fail(error, "prompt", "'prompt' is a required property.");
  }
  if (prompt->is_string()) {
    out->prompt = prompt->get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    out->prompt = (*prompt)[0].get<std::string>();
  } else {
    return fail(error, "prompt",
                "The reference model takes 'prompt' as a string (or an array of one string); "
                "token-id prompts and batches are not supported.");
  }
  out->full_prompt = out->prompt;
  if (!out->max_tokens) {
    out->max_tokens = 16;  // The OpenAI default for text completions.
  }
  bool echo = false;
  if (!getBool(body, "echo", &echo, error)) {
    return false;
  }
  if (echo) {
    return fail(error, "echo", "'echo' is not supported by the reference model.");
  }
  std::optional<int64_t> logprobs;
  if (!getInt(body, "logprobs", 0, 5, &logprobs, error)) {
    return false;
  }
  if (logprobs) {
    out->logprobs = true;
    out->top_logprobs = static_cast<int>(*logprobs);
  }
  return true;
}

bool parseEmbeddingRequest(std::string_view text, EmbeddingRequest* out, ApiError* error) {
  json body;
  if (!parseObject(text, &body, error) || !getString(body, "model", true, &out->model, error)) {
    return false;
  }
  auto input = body.find("input");
  if (input == body.end() || input->is_null()) {
    return fail(error, "input", "'input' is a required property.");
  }
  if (input->is_string()) {
    out->inputs.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty() && input->size() <= 2048) {
    for (const json& item : *input) {
      if (!item.is_string()) {
        return fail(error, "input", "'input' must be a string or an array of strings.");
      }
      out->inputs.push_back(item.get<std::string>());
    }
  } else {
    return fail(error, "input", "'input' must be a string or an array of 1 to 2048 strings.");
  }
  std::string format = "float";
  if (!getString(body, "encoding_format", false, &format, error)) {
    return false;
  }
  if (format != "float" && format != "base64") {
    return fail(error, "encoding_format", "'encoding_format' must be 'float' or 'base64'.");
  }
  out->base64 = format == "base64";
  std::optional<int64_t> dimensions;
  if (!getInt(body, "dimensions", 1, 4096, &dimensions, error)) {
    return false;
  }
  if (dimensions) {
    out->dimensions = static_cast<int>(*dimensions);
  }
  return true;
}

}  // namespace dw::model
