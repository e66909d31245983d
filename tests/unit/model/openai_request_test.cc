#include "model/openai_request.h"

#include <string>

#include <gtest/gtest.h>

namespace dw::model {
namespace {

constexpr std::string_view kMinimalChat =
    R"({"model":"ref","messages":[{"role":"user","content":"hi"}]})";

// Parses a chat request that must fail and returns the error.
ApiError chatError(std::string_view body) {
  CompletionRequest request;
  ApiError error;
  EXPECT_FALSE(parseChatRequest(body, &request, &error)) << body;
  EXPECT_EQ(error.status, 400) << body;
  return error;
}

CompletionRequest chatOk(std::string_view body) {
  CompletionRequest request;
  ApiError error;
  EXPECT_TRUE(parseChatRequest(body, &request, &error)) << body << ": " << error.message;
  return request;
}

ApiError completionError(std::string_view body) {
  CompletionRequest request;
  ApiError error;
  EXPECT_FALSE(parseCompletionRequest(body, &request, &error)) << body;
  EXPECT_EQ(error.status, 400) << body;
  return error;
}

CompletionRequest completionOk(std::string_view body) {
  CompletionRequest request;
  ApiError error;
  EXPECT_TRUE(parseCompletionRequest(body, &request, &error)) << body << ": " << error.message;
  return request;
}

ApiError embeddingError(std::string_view body) {
  EmbeddingRequest request;
  ApiError error;
  EXPECT_FALSE(parseEmbeddingRequest(body, &request, &error)) << body;
  EXPECT_EQ(error.status, 400) << body;
  return error;
}

EmbeddingRequest embeddingOk(std::string_view body) {
  EmbeddingRequest request;
  ApiError error;
  EXPECT_TRUE(parseEmbeddingRequest(body, &request, &error)) << body << ": " << error.message;
  return request;
}

TEST(ParseChatRequestTest, AcceptsMinimalRequestWithDefaults) {
  CompletionRequest request = chatOk(kMinimalChat);
  EXPECT_EQ(request.model, "ref");
  EXPECT_EQ(request.prompt, "hi");
  EXPECT_EQ(request.full_prompt, "hi");
  EXPECT_EQ(request.task, Task::kGenerate);
  EXPECT_FALSE(request.stream);
  EXPECT_FALSE(request.include_usage);
  EXPECT_FALSE(request.max_tokens.has_value());
  EXPECT_DOUBLE_EQ(request.temperature, 1.0);
  EXPECT_DOUBLE_EQ(request.top_p, 1.0);
  EXPECT_FALSE(request.seed.has_value());
  EXPECT_TRUE(request.stop.empty());
  EXPECT_FALSE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 0);
}

TEST(ParseChatRequestTest, ReadsOptionalFields) {
  CompletionRequest request = chatOk(R"({"model":"ref",
      "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"one"},
                  {"role":"assistant","content":"two"},{"role":"user","content":"three"}],
      "stream":true,"stream_options":{"include_usage":true},"max_tokens":12,
      "temperature":0.5,"top_p":0.9,"seed":42,"stop":["\n","END"],
      "logprobs":true,"top_logprobs":3})");
  EXPECT_EQ(request.prompt, "three");
  EXPECT_EQ(request.full_prompt, "Be brief.\none\ntwo\nthree");
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
  EXPECT_EQ(request.max_tokens, 12);
  EXPECT_DOUBLE_EQ(request.temperature, 0.5);
  EXPECT_DOUBLE_EQ(request.top_p, 0.9);
  EXPECT_EQ(request.seed, 42u);
  EXPECT_EQ(request.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_TRUE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 3);
}

TEST(ParseChatRequestTest, MaxCompletionTokensSetsMaxTokens) {
  CompletionRequest request = chatOk(
      R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":7})");
  EXPECT_EQ(request.max_tokens, 7);
}

TEST(ParseChatRequestTest, StopAsSingleString) {
  CompletionRequest request =
      chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"stop":"."})");
  EXPECT_EQ(request.stop, (std::vector<std::string>{"."}));
}

TEST(ParseChatRequestTest, RejectsMalformedJson) {
  ApiError error = chatError(R"({"model":"ref",)");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.param, "");
  EXPECT_EQ(error.type, "invalid_request_error");
  EXPECT_EQ(chatError("").code, "invalid_json");
}

TEST(ParseChatRequestTest, RejectsNonObjectBody) {
  ApiError error = chatError("[1,2]");
  EXPECT_EQ(error.code, "invalid_value");
}

TEST(ParseChatRequestTest, RejectsMissingOrNonStringModel) {
  EXPECT_EQ(chatError(R"({"messages":[{"role":"user","content":"hi"}]})").param, "model");
  EXPECT_EQ(chatError(R"({"model":null,"messages":[{"role":"user","content":"hi"}]})").param,
            "model");
  EXPECT_EQ(chatError(R"({"model":5,"messages":[{"role":"user","content":"hi"}]})").param, "model");
}

TEST(ParseChatRequestTest, RejectsBadMessages) {
  EXPECT_EQ(chatError(R"({"model":"ref"})").param, "messages");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":"hi"})").param, "messages");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":{}})").param, "messages");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[]})").param, "messages");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":["hi"]})").param, "messages[0]");
  // A conversation without a user message has nothing to answer.
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"system","content":"x"}]})").param,
            "messages");
}

TEST(ParseChatRequestTest, RejectsBadRoleNamingTheMessage) {
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"wizard","content":"hi"}]})").param,
            "messages[0].role");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"content":"hi"}]})").param,
            "messages[0].role");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"a"},
                                                    {"role":7,"content":"b"}]})")
                .param,
            "messages[1].role");
}

TEST(ParseChatRequestTest, RejectsMissingOrBadContent) {
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user"}]})").param,
            "messages[0].content");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":5}]})").param,
            "messages[0].content");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":[{"text":"x"}]}]})").param,
      "messages[0].content[0]");
}

TEST(ParseChatRequestTest, RejectsMoreThanOneChoice) {
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"n":2})").param,
            "n");
  chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"n":1})");
}

TEST(ParseChatRequestTest, RejectsOutOfRangeSampling) {
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"temperature":3})")
          .param,
      "temperature");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"temperature":"1"})")
          .param,
      "temperature");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"top_p":1.5})").param,
      "top_p");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"max_tokens":0})")
          .param,
      "max_tokens");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5})")
          .param,
      "max_tokens");
  chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"temperature":2})");
  chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"temperature":0})");
}

TEST(ParseChatRequestTest, RejectsTopLogprobsWithoutLogprobs) {
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"top_logprobs":2})")
          .param,
      "top_logprobs");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "logprobs":true,"top_logprobs":21})")
                .param,
            "top_logprobs");
}

TEST(ParseChatRequestTest, RejectsStreamOptionsWithoutStream) {
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "stream_options":{"include_usage":true}})")
                .param,
            "stream_options");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "stream":false,"stream_options":{"include_usage":true}})")
                .param,
            "stream_options");
}

TEST(ParseChatRequestTest, RejectsMoreThanFourStopSequences) {
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "stop":["a","b","c","d","e"]})")
                .param,
            "stop");
  EXPECT_EQ(
      chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"stop":[1]})").param,
      "stop");
  CompletionRequest request = chatOk(
      R"({"model":"ref","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d"]})");
  EXPECT_EQ(request.stop.size(), 4u);
}

TEST(ParseChatRequestTest, SystemMessageClassifyAsksForClassification) {
  // JSON string contents: case and surrounding whitespace do not matter.
  for (std::string_view content : {"classify", "Classify", "  CLASSIFY \\n", "\\tclassify "}) {
    for (std::string_view role : {"system", "developer"}) {
      std::string body = std::string(R"({"model":"ref","messages":[{"role":")") +
                         std::string(role) + R"(","content":")" + std::string(content) +
                         R"("},{"role":"user","content":"a poem"}]})";
      CompletionRequest request = chatOk(body);
      EXPECT_EQ(request.task, Task::kClassify) << body;
      EXPECT_EQ(request.prompt, "a poem");
    }
  }
}

TEST(ParseChatRequestTest, SystemMessageMentioningClassifyIsNotATask) {
  CompletionRequest request =
      chatOk(R"({"model":"ref","messages":[{"role":"system","content":"please classify this"},
                                           {"role":"user","content":"a poem"}]})");
  EXPECT_EQ(request.task, Task::kGenerate);
}

TEST(ParseChatRequestTest, ExtensionFieldSelectsTask) {
  EXPECT_EQ(chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                       "deepwatch":{"task":"classify"}})")
                .task,
            Task::kClassify);
  EXPECT_EQ(chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                       "deepwatch":{"task":"generate"}})")
                .task,
            Task::kGenerate);
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "deepwatch":{"task":"dance"}})")
                .param,
            "deepwatch.task");
  EXPECT_EQ(chatError(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
                          "deepwatch":"classify"})")
                .param,
            "deepwatch");
}

TEST(ParseChatRequestTest, ContentMayBeAnArrayOfTextParts) {
  CompletionRequest request = chatOk(R"({"model":"ref","messages":[{"role":"user","content":[
      {"type":"text","text":"first"},
      {"type":"image_url","image_url":{"url":"http://example.invalid/x.png"}},
      {"type":"text","text":"second"}]}]})");
  EXPECT_EQ(request.prompt, "first\nsecond");
}

TEST(ParseChatRequestTest, AssistantMessageMayOmitContent) {
  CompletionRequest request = chatOk(R"({"model":"ref","messages":[
      {"role":"user","content":"a"},{"role":"assistant","tool_calls":[]},
      {"role":"user","content":"b"}]})");
  EXPECT_EQ(request.prompt, "b");
}

TEST(ParseChatRequestTest, AcceptsUnknownFields) {
  CompletionRequest request = chatOk(R"({"model":"ref","messages":[{"role":"user","content":"hi"}],
      "thinking":{"type":"enabled","budget_tokens":1024},"user":"u-1","metadata":{"k":"v"},
      "frequency_penalty":0.5,"some_future_field":[1,2,3]})");
  EXPECT_EQ(request.prompt, "hi");
}

TEST(ParseCompletionRequestTest, DefaultsMaxTokensToSixteen) {
  CompletionRequest request = completionOk(R"({"model":"ref","prompt":"Once upon"})");
  EXPECT_EQ(request.prompt, "Once upon");
  EXPECT_EQ(request.full_prompt, "Once upon");
  EXPECT_EQ(request.max_tokens, 16);
  EXPECT_FALSE(request.logprobs);
  EXPECT_EQ(completionOk(R"({"model":"ref","prompt":"x","max_tokens":3})").max_tokens, 3);
}

TEST(ParseCompletionRequestTest, AcceptsPromptArrayOfOneString) {
  EXPECT_EQ(completionOk(R"({"model":"ref","prompt":["Once upon"]})").prompt, "Once upon");
}

TEST(ParseCompletionRequestTest, RejectsTokenIdsAndBatches) {
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":[1,2,3]})").param, "prompt");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":[[1,2]]})").param, "prompt");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":["a","b"]})").param, "prompt");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":[]})").param, "prompt");
  EXPECT_EQ(completionError(R"({"model":"ref"})").param, "prompt");
}

TEST(ParseCompletionRequestTest, RejectsEcho) {
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":"x","echo":true})").param, "echo");
  completionOk(R"({"model":"ref","prompt":"x","echo":false})");
}

TEST(ParseCompletionRequestTest, LegacyLogprobsIsAnIntegerUpToFive) {
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":"x","logprobs":6})").param, "logprobs");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":"x","logprobs":true})").param, "logprobs");
  CompletionRequest request = completionOk(R"({"model":"ref","prompt":"x","logprobs":5})");
  EXPECT_TRUE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 5);
  CompletionRequest zero = completionOk(R"({"model":"ref","prompt":"x","logprobs":0})");
  EXPECT_TRUE(zero.logprobs);
  EXPECT_EQ(zero.top_logprobs, 0);
}

TEST(ParseCompletionRequestTest, SharesCommonValidation) {
  EXPECT_EQ(completionError(R"({"prompt":"x"})").param, "model");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":"x","n":3})").param, "n");
  EXPECT_EQ(completionError(R"({"model":"ref","prompt":"x","temperature":-0.1})").param,
            "temperature");
  EXPECT_EQ(completionError("nope").code, "invalid_json");
}

TEST(ParseEmbeddingRequestTest, AcceptsStringInputWithDefaults) {
  EmbeddingRequest request = embeddingOk(R"({"model":"ref","input":"hello"})");
  EXPECT_EQ(request.model, "ref");
  EXPECT_EQ(request.inputs, (std::vector<std::string>{"hello"}));
  EXPECT_FALSE(request.base64);
  EXPECT_EQ(request.dimensions, 256);
}

TEST(ParseEmbeddingRequestTest, AcceptsArrayInput) {
  EmbeddingRequest request = embeddingOk(R"({"model":"ref","input":["a","b","c"]})");
  EXPECT_EQ(request.inputs, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ParseEmbeddingRequestTest, RejectsBadInput) {
  EXPECT_EQ(embeddingError(R"({"model":"ref"})").param, "input");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":[]})").param, "input");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":[1,2]})").param, "input");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":5})").param, "input");
  EXPECT_EQ(embeddingError(R"({"input":"x"})").param, "model");
  EXPECT_EQ(embeddingError("{").code, "invalid_json");
}

TEST(ParseEmbeddingRequestTest, EncodingFormatFloatOrBase64) {
  EXPECT_TRUE(embeddingOk(R"({"model":"ref","input":"x","encoding_format":"base64"})").base64);
  EXPECT_FALSE(embeddingOk(R"({"model":"ref","input":"x","encoding_format":"float"})").base64);
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":"x","encoding_format":"hex"})").param,
            "encoding_format");
}

TEST(ParseEmbeddingRequestTest, DimensionsWithinBounds) {
  EXPECT_EQ(embeddingOk(R"({"model":"ref","input":"x","dimensions":1})").dimensions, 1);
  EXPECT_EQ(embeddingOk(R"({"model":"ref","input":"x","dimensions":4096})").dimensions, 4096);
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":"x","dimensions":0})").param, "dimensions");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":"x","dimensions":4097})").param, "dimensions");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":"x","dimensions":-1})").param, "dimensions");
  EXPECT_EQ(embeddingError(R"({"model":"ref","input":"x","dimensions":"8"})").param, "dimensions");
}

}  // namespace
}  // namespace dw::model
