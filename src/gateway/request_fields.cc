#include "gateway/request_fields.h"

#include <simdjson.h>

#include "net/json_error.h"

namespace dw::gateway {

namespace od = simdjson::ondemand;

class RequestFieldParser::Impl {
 public:
  od::parser parser;
  std::string padded;  // The body copied with simdjson's padding; reused across requests.
};

RequestFieldParser::RequestFieldParser() : impl_(std::make_unique<Impl>()) {}
RequestFieldParser::~RequestFieldParser() = default;

namespace {

// Full validation, for error paths only: tells a body that is not JSON at all from a well-formed
// one whose value has the wrong type.
bool isValidJson(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  return parser.parse(body.data(), body.size()).get(element) == simdjson::SUCCESS;
}

bool invalidJson(FieldError* error) {
  error->message = "We could not parse the JSON body of your request.";
  error->param.clear();
  error->code = "invalid_json";
  return false;
}

}  // namespace

namespace {

// The scanners below read what they can use and skip values of other types, but an error in the
// JSON itself is returned: simdjson's on-demand iterator is unusable after one, and the caller's
// loop over the body's fields would end early without a word, so that a later `stream` or a
// second `model` went unseen (found by fuzz/request_fields_fuzz.cc).
simdjson::error_code tolerated(simdjson::error_code code) {
  return code == simdjson::INCORRECT_TYPE ? simdjson::SUCCESS : code;
}

// Feeds a message's content (a string, or an array of parts with "text") to the scanner.
simdjson::error_code scanContent(od::value content, observe::InputScanner* input) {
  std::string_view text;
  if (auto code = content.get_string().get(text); !code) {
    input->addText(text);
    return simdjson::SUCCESS;
  } else if (code != simdjson::INCORRECT_TYPE) {
    return code;
  }
  od::array parts;
  if (auto code = content.get_array().get(parts)) {
    return tolerated(code);
  }
  for (auto part_result : parts) {
    od::object part;
    if (auto code = std::move(part_result).get_object().get(part)) {
      return tolerated(code);
    }
    for (auto field_result : part) {
      od::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field)) {
        return code;
      }
      if (auto code = field.unescaped_key().get(key)) {
        return code;
      }
      if (key == "text") {
        if (auto code = field.value().get_string().get(text); !code) {
          input->addText(text);
        } else if (code != simdjson::INCORRECT_TYPE) {
          return code;
        }
      }
    }
  }
  return simdjson::SUCCESS;
}

// `messages`: every message counts; their contents are examined.
simdjson::error_code scanMessages(od::value messages, observe::InputScanner* input) {
  od::array array;
  if (auto code = messages.get_array().get(array)) {
    return tolerated(code);
  }
  for (auto message_result : array) {
    od::object message;
    if (auto code = std::move(message_result).get_object().get(message)) {
      return tolerated(code);
    }
    input->addMessage();
    for (auto field_result : message) {
      od::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field)) {
        return code;
      }
      if (auto code = field.unescaped_key().get(key)) {
        return code;
      }
      if (key == "content") {
        if (auto code = scanContent(field.value(), input)) {
          return code;
        }
      }
    }
  }
  return simdjson::SUCCESS;
}

// `prompt` or `input`: a string or an array of strings (token-id arrays are skipped).
simdjson::error_code scanTexts(od::value value, observe::InputScanner* input) {
  std::string_view text;
  if (auto code = value.get_string().get(text); !code) {
    input->addMessage();
    input->addText(text);
    return simdjson::SUCCESS;
  } else if (code != simdjson::INCORRECT_TYPE) {
    return code;
  }
  od::array array;
  if (auto code = value.get_array().get(array)) {
    return tolerated(code);
  }
  for (auto item : array) {
    if (auto code = item.get_string().get(text); !code) {
      input->addMessage();
      input->addText(text);
    } else if (code != simdjson::INCORRECT_TYPE) {
      return code;
    }
  }
  return simdjson::SUCCESS;
}

}  // namespace

bool RequestFieldParser::parse(std::string_view body, RequestFields* out, FieldError* error,
                               observe::InputScanner* input) {
  std::string& padded = impl_->padded;
  padded.assign(body);
  padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (impl_->parser.iterate(padded.data(), body.size(), padded.size()).get(doc)) {
    return invalidJson(error);
  }
  od::object object;
  if (auto code = doc.get_object().get(object); code) {
    // A document that starts with something other than '{' is malformed JSON unless it
    // is another well-formed JSON value (an array, a string...).
    if (code != simdjson::INCORRECT_TYPE || !isValidJson(body)) {
      return invalidJson(error);
    }
    error->message = "The request body must be a JSON object.";
    error->param.clear();
    error->code = "invalid_value";
    return false;
  }
  bool seen_model = false;
  bool seen_stream = false;
  for (auto field_result : object) {
    od::field field;
    if (std::move(field_result).get(field)) {
      return invalidJson(error);
    }
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      return invalidJson(error);
    }
    od::value value = field.value();
    if (key == "model") {
      if (seen_model) {
        error->message = "The request body has more than one 'model'.";
        error->param = "model";
        error->code = "invalid_value";
        return false;
      }
      seen_model = true;
      std::string_view token = value.raw_json_token();
      std::string_view model;
      if (auto code = value.get_string().get(model); code) {
        if (code != simdjson::INCORRECT_TYPE || !isValidJson(body)) {
          return invalidJson(error);
        }
        error->message = "'model' must be a string.";
        error->param = "model";
        error->code = "invalid_value";
        return false;
      }
      out->model.assign(model);
      // raw_json_token() may include trailing whitespace; the token ends at its closing quote.
      out->model_begin = static_cast<size_t>(token.data() - padded.data());
      size_t close = token.rfind('"');
      out->model_end =
          out->model_begin + (close == std::string_view::npos ? token.size() : close + 1);
    } else if (key == "stream") {
      if (seen_stream) {
        error->message = "The request body has more than one 'stream'.";
        error->param = "stream";
        error->code = "invalid_value";
        return false;
      }
      seen_stream = true;
      bool is_null = false;
      if (!value.is_null().get(is_null) && is_null) {
        out->stream = false;
      } else if (value.get_bool().get(out->stream)) {
        error->message = "'stream' must be a boolean.";
        error->param = "stream";
        error->code = "invalid_value";
        return false;
      }
    } else if (input != nullptr && key == "messages") {
      if (scanMessages(value, input)) {
        return invalidJson(error);
      }
    } else if (input != nullptr && (key == "prompt" || key == "input")) {
      if (scanTexts(value, input)) {
        return invalidJson(error);
      }
    }
    // Other values are skipped unread; the upstream parses the body in full and rejects what
    // is malformed in them.
  }
  if (!seen_model) {
    error->message = "'model' is a required property.";
    error->param = "model";
    error->code = "invalid_value";
    return false;
  }
  return true;
}

std::string rewriteModel(std::string_view body, const RequestFields& fields,
                         std::string_view model) {
  std::string out;
  out.reserve(body.size() + model.size());
  out.append(body.substr(0, fields.model_begin));
  net::appendJsonString(out, model);
  out.append(body.substr(fields.model_end));
  return out;
}

}  // namespace dw::gateway
