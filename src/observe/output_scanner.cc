#include "observe/output_scanner.h"

#include <simdjson.h>

#include <cmath>
#include <vector>

namespace dw::observe {

namespace od = simdjson::ondemand;

class OutputScanner::Impl {
 public:
  od::parser parser;
  std::string padded;
  std::vector<double> top;  // Scratch for one token's alternatives.

  // Parses one JSON object (a body or an event); returns whether it carried content.
  bool scan(std::string_view json, OutputFeatures* out);

 private:
  void usage(od::value value, OutputFeatures* out);
  bool choice(od::value value, OutputFeatures* out);
  void logprobs(od::value value, OutputFeatures* out);
  void tokenLogprobs(od::array tokens, OutputFeatures* out);
  void addToken(double logprob, OutputFeatures* out);
  void addEntropy(OutputFeatures* out);
};

namespace {

void appendLabelText(std::string_view text, OutputFeatures* out) {
  if (out->label_text.size() < kLabelTextBytes) {
    out->label_text.append(text.substr(0, kLabelTextBytes - out->label_text.size()));
  }
  out->content_chars += static_cast<uint32_t>(text.size());
}

uint64_t uintOr(od::value value, uint64_t fallback) {
  uint64_t v = 0;
  return value.get_uint64().get(v) ? fallback : v;
}

}  // namespace

void OutputScanner::Impl::addToken(double logprob, OutputFeatures* out) {
  if (std::isfinite(logprob) && logprob <= 0) {
    out->prob_sum += std::exp(logprob);
    ++out->prob_count;
  }
}

void OutputScanner::Impl::addEntropy(OutputFeatures* out) {
  if (top.size() < 2) {
    return;
  }
  double total = 0;
  for (double lp : top) {
    total += std::exp(lp);
  }
  if (!(total > 0)) {
    return;
  }
  double entropy = 0;
  for (double lp : top) {
    const double p = std::exp(lp) / total;
    if (p > 0) {
      entropy -= p * std::log(p);
    }
  }
  out->entropy_sum += entropy;
  ++out->entropy_count;
}

void OutputScanner::Impl::usage(od::value value, OutputFeatures* out) {
  od::object object;
  if (value.get_object().get(object)) {
    return;
  }
  out->has_usage = true;
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return;
    }
    od::value v = field.value();
    if (key == "prompt_tokens") {
      out->prompt_tokens = uintOr(v, 0);
    } else if (key == "completion_tokens") {
      out->completion_tokens = uintOr(v, 0);
    } else if (key == "prompt_cache_hit_tokens") {
      out->cached_tokens = std::max(out->cached_tokens, uintOr(v, 0));  // DeepSeek's name.
    } else if (key == "prompt_tokens_details" || key == "completion_tokens_details") {
      od::object details;
      if (v.get_object().get(details)) {
        continue;
      }
      for (auto detail_result : details) {
        od::field detail;
        std::string_view name;
        if (std::move(detail_result).get(detail) || detail.unescaped_key().get(name)) {
          break;
        }
        if (name == "cached_tokens") {
          out->cached_tokens = std::max(out->cached_tokens, uintOr(detail.value(), 0));
        } else if (name == "reasoning_tokens") {
          out->reasoning_tokens = uintOr(detail.value(), 0);
        }
      }
    }
  }
}

void OutputScanner::Impl::tokenLogprobs(od::array tokens, OutputFeatures* out) {
  // Chat: [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}].
  for (auto item_result : tokens) {
    od::object item;
    if (std::move(item_result).get_object().get(item)) {
      return;
    }
    top.clear();
    for (auto field_result : item) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
        return;
      }
      if (key == "logprob") {
        double lp = 0;
        if (!field.value().get_double().get(lp)) {
          addToken(lp, out);
          ++out->content_pieces;
        }
      } else if (key == "top_logprobs") {
        od::array alternatives;
        if (field.value().get_array().get(alternatives)) {
          continue;
        }
        for (auto alt_result : alternatives) {
          od::object alt;
          double lp = 0;
          if (!std::move(alt_result).get_object().get(alt) &&
              !alt["logprob"].get_double().get(lp)) {
            top.push_back(lp);
          }
        }
      }
    }
    addEntropy(out);
  }
}

void OutputScanner::Impl::logprobs(od::value value, OutputFeatures* out) {
  od::object object;
  if (value.get_object().get(object)) {
    return;  // null, or not an object.
  }
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return;
    }
    od::array values;
    if (field.value().get_array().get(values)) {
      continue;
    }
    if (key == "content") {
      tokenLogprobs(values, out);
    } else if (key == "token_logprobs") {
      // Legacy completions: parallel arrays of tokens and their logprobs.
      for (auto v : values) {
        double lp = 0;
        if (!v.get_double().get(lp)) {
          addToken(lp, out);
          ++out->content_pieces;
        }
      }
    } else if (key == "top_logprobs") {
      // Legacy completions: one {token: logprob} object per token.
      for (auto v : values) {
        od::object alternatives;
        if (v.get_object().get(alternatives)) {
          continue;
        }
        top.clear();
        for (auto alt_result : alternatives) {
          od::field alt;
          double lp = 0;
          if (!std::move(alt_result).get(alt) && !alt.value().get_double().get(lp)) {
            top.push_back(lp);
          }
        }
        addEntropy(out);
      }
    }
  }
}

bool OutputScanner::Impl::choice(od::value value, OutputFeatures* out) {
  od::object object;
  if (value.get_object().get(object)) {
    return false;
  }
  bool content = false;
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return content;
    }
    od::value v = field.value();
    if (key == "message" || key == "delta") {
      od::object message;
      if (v.get_object().get(message)) {
        continue;
      }
      for (auto part_result : message) {
        od::field part;
        std::string_view name;
        if (std::move(part_result).get(part) || part.unescaped_key().get(name)) {
          break;
        }
        std::string_view text;
        if ((name == "content" || name == "reasoning_content" || name == "reasoning") &&
            !part.value().get_string().get(text) && !text.empty()) {
          if (name == "content") {
            appendLabelText(text, out);
          }
          content = true;
        }
      }
    } else if (key == "text") {
      std::string_view text;
      if (!v.get_string().get(text) && !text.empty()) {
        appendLabelText(text, out);
        content = true;
      }
    } else if (key == "logprobs") {
      logprobs(v, out);
    } else if (key == "finish_reason") {
      std::string_view reason;
      if (!v.get_string().get(reason)) {
        out->finish_reason.assign(reason);
      }
    }
  }
  return content;
}

bool OutputScanner::Impl::scan(std::string_view json, OutputFeatures* out) {
  padded.assign(json);
  padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (parser.iterate(padded.data(), json.size(), padded.size()).get(doc)) {
    return false;
  }
  od::object object;
  if (doc.get_object().get(object)) {
    return false;
  }
  bool content = false;
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return content;
    }
    if (key == "choices") {
      od::array choices;
      if (field.value().get_array().get(choices)) {
        continue;
      }
      for (auto c : choices) {
        od::value first;
        if (!c.get(first)) {
          content = choice(first, out) || content;
        }
        break;  // n = 1 is what the gateway measures; further choices are skipped.
      }
    } else if (key == "usage") {
      bool is_null = false;
      od::value v = field.value();
      if (!v.is_null().get(is_null) && !is_null) {
        usage(v, out);
      }
    } else if (key == "error") {
      out->error = true;
    }
  }
  return content;
}

OutputScanner::OutputScanner() : impl_(std::make_unique<Impl>()) {}
OutputScanner::~OutputScanner() = default;

void OutputScanner::scanBody(std::string_view body, OutputFeatures* out) { impl_->scan(body, out); }

int OutputScanner::feed(SseState& state, std::string_view bytes, OutputFeatures* out) {
  state.pending.append(bytes);
  int with_content = 0;
  size_t start = 0;
  for (;;) {
    // An event ends at a blank line ("\n\n", or "\r\n\r\n").
    size_t end = state.pending.find("\n\n", start);
    size_t crlf = state.pending.find("\r\n\r\n", start);
    size_t event_end = std::min(end == std::string::npos ? std::string::npos : end + 2,
                                crlf == std::string::npos ? std::string::npos : crlf + 4);
    if (event_end == std::string::npos) {
      break;
    }
    std::string_view event(state.pending.data() + start, event_end - start);
    start = event_end;
    // The data lines of the event, joined (one line in practice).
    std::string data;
    size_t line_start = 0;
    while (line_start < event.size()) {
      size_t line_end = event.find('\n', line_start);
      if (line_end == std::string_view::npos) {
        line_end = event.size();
      }
      std::string_view line = event.substr(line_start, line_end - line_start);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (!line.empty() && line.front() == ' ') {
          line.remove_prefix(1);
        }
        if (!data.empty()) {
          data.push_back('\n');
        }
        data.append(line);
      }
      line_start = line_end + 1;
    }
    if (data.empty() || data == "[DONE]") {
      continue;
    }
    if (impl_->scan(data, out)) {
      ++with_content;
    }
  }
  state.pending.erase(0, start);
  if (state.pending.size() > 1024 * 1024) {
    state.pending.clear();  // A runaway event: stop buffering it rather than grow forever.
  }
  return with_content;
}

}  // namespace dw::observe
