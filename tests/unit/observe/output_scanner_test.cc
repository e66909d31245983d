#include "observe/output_scanner.h"

#include <cmath>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"

namespace dw::observe {
namespace {

// The entropy (nats) of alternatives given as logprobs, renormalised over those listed.
double entropyOf(std::initializer_list<double> logprobs) {
  double total = 0;
  for (double lp : logprobs) {
    total += std::exp(lp);
  }
  double entropy = 0;
  for (double lp : logprobs) {
    const double p = std::exp(lp) / total;
    entropy -= p * std::log(p);
  }
  return entropy;
}

void expectSameFeatures(const OutputFeatures& a, const OutputFeatures& b, const std::string& why) {
  EXPECT_EQ(a.has_usage, b.has_usage) << why;
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens) << why;
  EXPECT_EQ(a.completion_tokens, b.completion_tokens) << why;
  EXPECT_EQ(a.cached_tokens, b.cached_tokens) << why;
  EXPECT_EQ(a.reasoning_tokens, b.reasoning_tokens) << why;
  EXPECT_EQ(a.content_pieces, b.content_pieces) << why;
  EXPECT_EQ(a.content_chars, b.content_chars) << why;
  EXPECT_DOUBLE_EQ(a.prob_sum, b.prob_sum) << why;
  EXPECT_EQ(a.prob_count, b.prob_count) << why;
  EXPECT_DOUBLE_EQ(a.entropy_sum, b.entropy_sum) << why;
  EXPECT_EQ(a.entropy_count, b.entropy_count) << why;
  EXPECT_EQ(a.finish_reason, b.finish_reason) << why;
  EXPECT_EQ(a.error, b.error) << why;
  EXPECT_EQ(a.label_text, b.label_text) << why;
}

constexpr std::string_view kChatCompletion = R"({
  "id": "chatcmpl-1",
  "object": "chat.completion",
  "created": 1700000000,
  "model": "gpt-4o",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "positive"},
    "logprobs": {"content": [
      {"token": "posit", "logprob": -0.1, "bytes": [112],
       "top_logprobs": [{"token": "posit", "logprob": -0.1, "bytes": [112]},
                        {"token": "neg", "logprob": -2.5, "bytes": [110]}]},
      {"token": "ive", "logprob": -0.5, "bytes": [105],
       "top_logprobs": [{"token": "ive", "logprob": -0.5, "bytes": [105]},
                        {"token": "ion", "logprob": -1.0, "bytes": [105]},
                        {"token": "!", "logprob": -3.0, "bytes": [33]}]}
    ], "refusal": null},
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 120,
    "completion_tokens": 2,
    "total_tokens": 122,
    "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 7, "audio_tokens": 0}
  },
  "system_fingerprint": "fp_1"
})";

TEST(OutputScannerTest, ScansAChatCompletion) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(kChatCompletion, &out);
  EXPECT_TRUE(out.has_usage);
  EXPECT_EQ(out.prompt_tokens, 120u);
  EXPECT_EQ(out.completion_tokens, 2u);
  EXPECT_EQ(out.cached_tokens, 64u);
  EXPECT_EQ(out.reasoning_tokens, 7u);
  EXPECT_EQ(out.finish_reason, "stop");
  EXPECT_EQ(out.label_text, "positive");
  EXPECT_EQ(out.content_chars, 8u);
  EXPECT_FALSE(out.error);

  EXPECT_EQ(out.content_pieces, 2u);
  EXPECT_EQ(out.prob_count, 2u);
  EXPECT_NEAR(out.prob_sum, std::exp(-0.1) + std::exp(-0.5), 1e-12);
  EXPECT_NEAR(out.confidence(), (std::exp(-0.1) + std::exp(-0.5)) / 2, 1e-12);
  EXPECT_EQ(out.entropy_count, 2u);
  EXPECT_NEAR(out.entropy_sum, entropyOf({-0.1, -2.5}) + entropyOf({-0.5, -1.0, -3.0}), 1e-12);
}

TEST(OutputScannerTest, ReadsDeepSeekCacheHitTokens) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({"object":"chat.completion","choices":[{"index":0,
      "message":{"role":"assistant","content":"hi","reasoning_content":"thinking..."},
      "finish_reason":"length"}],
      "usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60,
               "prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18}})",
                   &out);
  EXPECT_TRUE(out.has_usage);
  EXPECT_EQ(out.cached_tokens, 32u);
  EXPECT_EQ(out.prompt_tokens, 50u);
  EXPECT_EQ(out.finish_reason, "length");
  // Reasoning is content but not label text.
  EXPECT_EQ(out.label_text, "hi");
  EXPECT_LT(out.confidence(), 0);  // No logprobs.
}

TEST(OutputScannerTest, WithoutUsageHasUsageStaysFalse) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({"choices":[{"message":{"content":"x"},"finish_reason":"stop"}],
                       "usage":null})",
                   &out);
  EXPECT_FALSE(out.has_usage);
  EXPECT_EQ(out.label_text, "x");
}

TEST(OutputScannerTest, OnlyTheFirstChoiceIsMeasured) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({"choices":[{"message":{"content":"first"},"finish_reason":"stop"},
                                  {"message":{"content":"second"},"finish_reason":"length"}]})",
                   &out);
  EXPECT_EQ(out.label_text, "first");
  EXPECT_EQ(out.finish_reason, "stop");
}

TEST(OutputScannerTest, LabelTextKeepsTheFirstBytes) {
  OutputScanner scanner;
  OutputFeatures out;
  const std::string content(1000, 'a');
  scanner.scanBody(R"({"choices":[{"message":{"content":")" + content + R"("}}]})", &out);
  EXPECT_EQ(out.label_text, std::string(kLabelTextBytes, 'a'));
  EXPECT_EQ(out.content_chars, 1000u);
}

TEST(OutputScannerTest, ScansATextCompletionWithLegacyLogprobs) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({
    "id": "cmpl-1", "object": "text_completion", "model": "davinci",
    "choices": [{
      "text": " yes",
      "index": 0,
      "logprobs": {
        "tokens": [" y", "es"],
        "token_logprobs": [-0.2, -0.3],
        "top_logprobs": [{" y": -0.2, " n": -1.9}, {"es": -0.3, "ep": -1.5, "o": -4.0}],
        "text_offset": [0, 2]
      },
      "finish_reason": "length"
    }],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
  })",
                   &out);
  EXPECT_EQ(out.label_text, " yes");
  EXPECT_EQ(out.finish_reason, "length");
  EXPECT_EQ(out.prompt_tokens, 3u);
  EXPECT_EQ(out.completion_tokens, 2u);
  EXPECT_EQ(out.content_pieces, 2u);
  EXPECT_EQ(out.prob_count, 2u);
  EXPECT_NEAR(out.prob_sum, std::exp(-0.2) + std::exp(-0.3), 1e-12);
  EXPECT_EQ(out.entropy_count, 2u);
  EXPECT_NEAR(out.entropy_sum, entropyOf({-0.2, -1.9}) + entropyOf({-0.3, -1.5, -4.0}), 1e-12);
}

TEST(OutputScannerTest, LegacyNullLogprobIsSkipped) {
  // With echo, the first token has no logprob.
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({"object":"text_completion","choices":[{"text":"ab",
      "logprobs":{"tokens":["a","b"],"token_logprobs":[null,-0.7],
                  "top_logprobs":[null,{"b":-0.7,"c":-0.9}]}}]})",
                   &out);
  EXPECT_EQ(out.prob_count, 1u);
  EXPECT_NEAR(out.prob_sum, std::exp(-0.7), 1e-12);
  EXPECT_EQ(out.entropy_count, 1u);
  EXPECT_NEAR(out.entropy_sum, entropyOf({-0.7, -0.9}), 1e-12);
}

TEST(OutputScannerTest, AnErrorBodySetsError) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(
      R"({"error":{"message":"Rate limit reached","type":"rate_limit_error","code":null}})", &out);
  EXPECT_TRUE(out.error);
  EXPECT_FALSE(out.has_usage);
  EXPECT_TRUE(out.label_text.empty());
}

TEST(OutputScannerTest, AnEmbeddingsListHasUsageAndNoContent) {
  OutputScanner scanner;
  OutputFeatures out;
  scanner.scanBody(R"({"object":"list","data":[{"object":"embedding","index":0,
      "embedding":[0.1,-0.2]}],"model":"e","usage":{"prompt_tokens":4,"total_tokens":4}})",
                   &out);
  EXPECT_TRUE(out.has_usage);
  EXPECT_EQ(out.prompt_tokens, 4u);
  EXPECT_EQ(out.content_chars, 0u);
  EXPECT_FALSE(out.error);
}

TEST(OutputScannerTest, GarbageDoesNotCrash) {
  OutputScanner scanner;
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "{",
      "[1,2,3]",
      "null",
      "\"string\"",
      R"({"choices":5})",
      R"({"choices":[5]})",
      R"({"choices":[{"message":7,"logprobs":"x","finish_reason":3}]})",
      R"({"choices":[{"logprobs":{"content":[1,{"logprob":"x"},{"top_logprobs":5}]}}]})",
      R"({"choices":[{"logprobs":{"content":[{"logprob":-0.1,"top_logprobs":[1,{"logprob":"a"}]}]}}]})",
      R"({"choices":[{"logprobs":{"token_logprobs":["a",{}],"top_logprobs":[1,{"a":"b"}]}}]})",
      R"({"usage":{"prompt_tokens":-1,"completion_tokens":"many","prompt_tokens_details":7}})",
      R"({"usage":[1,2]})",
      R"({"choices":[{"message":{"content":"unterminated)",
      std::string("{\"choices\":[{\"message\":{\"content\":\"\xff\xfe\"}}]}"),
      std::string(100, '{'),
      std::string(100, '['),
  };
  for (const std::string& body : bodies) {
    OutputFeatures out;
    scanner.scanBody(body, &out);
    EXPECT_FALSE(std::isnan(out.prob_sum)) << body;
    EXPECT_LE(out.label_text.size(), kLabelTextBytes) << body;
  }
  // The scanner is still usable afterwards.
  OutputFeatures out;
  scanner.scanBody(kChatCompletion, &out);
  EXPECT_EQ(out.label_text, "positive");
}

TEST(OutputScannerTest, RandomBytesDoNotCrash) {
  OutputScanner scanner;
  Random random(31);
  const std::string base(kChatCompletion);
  for (int i = 0; i < 300; ++i) {
    std::string body = base.substr(0, random.below(base.size()));
    for (int j = 0; j < 3 && !body.empty(); ++j) {
      body[random.below(body.size())] = static_cast<char>(random.below(256));
    }
    OutputFeatures out;
    scanner.scanBody(body, &out);
    SseState state;
    scanner.feed(state, "data: " + body + "\n\n", &out);
  }
}

// A streamed chat completion: role chunk, a keep-alive comment, two content chunks (the first
// with logprobs), the finish chunk, the usage chunk and [DONE].
const std::string kStream =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
    "\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"posi\"},\"logprobs\":{\"content\":[{\"token\":\"posi\","
    "\"logprob\":-0.25,\"top_logprobs\":[{\"token\":\"posi\",\"logprob\":-0.25},"
    "{\"token\":\"neg\",\"logprob\":-1.5}]}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"tive\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13,"
    "\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
    "data: [DONE]\n\n";

OutputFeatures fedWhole(const std::string& stream, int* events) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  *events = scanner.feed(state, stream, &out);
  return out;
}

TEST(OutputScannerStreamTest, FeedsAWholeStream) {
  int events = 0;
  const OutputFeatures out = fedWhole(kStream, &events);
  EXPECT_EQ(events, 2);
  EXPECT_EQ(out.label_text, "positive");
  EXPECT_EQ(out.content_chars, 8u);
  EXPECT_EQ(out.finish_reason, "stop");
  EXPECT_TRUE(out.has_usage);
  EXPECT_EQ(out.prompt_tokens, 11u);
  EXPECT_EQ(out.completion_tokens, 2u);
  EXPECT_EQ(out.cached_tokens, 4u);
  EXPECT_EQ(out.prob_count, 1u);
  EXPECT_NEAR(out.prob_sum, std::exp(-0.25), 1e-12);
  EXPECT_EQ(out.entropy_count, 1u);
  EXPECT_NEAR(out.entropy_sum, entropyOf({-0.25, -1.5}), 1e-12);
  EXPECT_FALSE(out.error);
}

TEST(OutputScannerStreamTest, SplitAtAnyByteGivesTheSameFeatures) {
  int whole_events = 0;
  const OutputFeatures whole = fedWhole(kStream, &whole_events);
  OutputScanner scanner;  // Reused across streams, as a worker does.
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SseState state;
    OutputFeatures out;
    int events = scanner.feed(state, std::string_view(kStream).substr(0, cut), &out);
    events += scanner.feed(state, std::string_view(kStream).substr(cut), &out);
    EXPECT_EQ(events, whole_events) << "cut at " << cut;
    expectSameFeatures(out, whole, "cut at " + std::to_string(cut));
    EXPECT_TRUE(state.pending.empty()) << "cut at " << cut;
  }
}

TEST(OutputScannerStreamTest, SplitIntoRandomPiecesGivesTheSameFeatures) {
  int whole_events = 0;
  const OutputFeatures whole = fedWhole(kStream, &whole_events);
  OutputScanner scanner;
  Random random(2024);
  for (int trial = 0; trial < 200; ++trial) {
    SseState state;
    OutputFeatures out;
    int events = 0;
    for (size_t at = 0; at < kStream.size();) {
      const size_t n = 1 + random.below(trial % 2 == 0 ? 4 : 40);
      events += scanner.feed(state, std::string_view(kStream).substr(at, n), &out);
      at += n;
    }
    EXPECT_EQ(events, whole_events) << "trial " << trial;
    expectSameFeatures(out, whole, "trial " + std::to_string(trial));
  }
}

TEST(OutputScannerStreamTest, SplitInsideDataPrefixAndJson) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  int events = scanner.feed(state, "da", &out);                           // Inside "data:".
  events += scanner.feed(state, "ta: {\"choices\":[{\"del", &out);        // Inside the JSON.
  events += scanner.feed(state, "ta\":{\"content\":\"ab\"}}]}\n", &out);  // One newline.
  EXPECT_EQ(events, 0);
  events += scanner.feed(state, "\ndata: {\"choices\":[{\"delta\":{\"content\":\"cd\"}}]}", &out);
  EXPECT_EQ(events, 1);
  EXPECT_EQ(out.label_text, "ab");
  events += scanner.feed(state, "\n\n", &out);
  EXPECT_EQ(events, 2);
  EXPECT_EQ(out.label_text, "abcd");
}

TEST(OutputScannerStreamTest, DoneAndCommentsAreIgnored) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state, ": keep-alive\n\n: another comment\n\ndata: [DONE]\n\n", &out), 0);
  expectSameFeatures(out, OutputFeatures(), "comments and [DONE]");
  EXPECT_TRUE(state.pending.empty());
  // Other fields of an event (event:, id:, retry:) are not data either.
  EXPECT_EQ(scanner.feed(state, "event: ping\nid: 4\nretry: 100\n\n", &out), 0);
  expectSameFeatures(out, OutputFeatures(), "non-data fields");
}

TEST(OutputScannerStreamTest, CrLfSeparatorsWork) {
  std::string crlf;
  for (char c : kStream) {
    if (c == '\n') {
      crlf += "\r\n";
    } else {
      crlf.push_back(c);
    }
  }
  int whole_events = 0;
  const OutputFeatures whole = fedWhole(kStream, &whole_events);
  int events = 0;
  const OutputFeatures out = fedWhole(crlf, &events);
  EXPECT_EQ(events, whole_events);
  expectSameFeatures(out, whole, "CRLF");

  OutputScanner scanner;
  for (size_t cut = 0; cut <= crlf.size(); cut += 7) {
    SseState state;
    OutputFeatures split;
    int n = scanner.feed(state, std::string_view(crlf).substr(0, cut), &split);
    n += scanner.feed(state, std::string_view(crlf).substr(cut), &split);
    EXPECT_EQ(n, whole_events) << "cut at " << cut;
    expectSameFeatures(split, whole, "CRLF cut at " + std::to_string(cut));
  }
}

TEST(OutputScannerStreamTest, DataWithoutSpaceAfterColon) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state, "data:{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", &out),
            1);
  EXPECT_EQ(out.label_text, "x");
}

TEST(OutputScannerStreamTest, UsageChunkWithEmptyChoicesSetsUsage) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state,
                         "data: {\"object\":\"chat.completion.chunk\",\"choices\":[],"
                         "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,"
                         "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\n\n",
                         &out),
            0);
  EXPECT_TRUE(out.has_usage);
  EXPECT_EQ(out.prompt_tokens, 9u);
  EXPECT_EQ(out.completion_tokens, 3u);
  EXPECT_EQ(out.reasoning_tokens, 2u);
}

TEST(OutputScannerStreamTest, ReasoningChunksCountAsContentEvents) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state,
                         "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\"}}]}\n\n"
                         "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n",
                         &out),
            2);
  EXPECT_EQ(out.label_text, "ok");
}

TEST(OutputScannerStreamTest, AnErrorEventSetsError) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n", &out), 0);
  EXPECT_TRUE(out.error);
}

TEST(OutputScannerStreamTest, IncompleteEventStaysPending) {
  OutputScanner scanner;
  SseState state;
  OutputFeatures out;
  EXPECT_EQ(scanner.feed(state, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}", &out), 0);
  EXPECT_FALSE(state.pending.empty());
  EXPECT_TRUE(out.label_text.empty());
}

}  // namespace
}  // namespace dw::observe
