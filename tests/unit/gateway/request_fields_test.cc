#include "gateway/request_fields.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace dw::gateway {
namespace {

class RequestFieldParserTest : public ::testing::Test {
 protected:
  // Parses a body that must be accepted.
  RequestFields accepted(std::string_view body) {
    RequestFields fields;
    FieldError error;
    EXPECT_TRUE(parser_.parse(body, &fields, &error)) << body << ": " << error.message;
    return fields;
  }

  // Parses a body that must be rejected and returns why.
  FieldError rejected(std::string_view body) {
    RequestFields fields;
    FieldError error;
    EXPECT_FALSE(parser_.parse(body, &fields, &error)) << "accepted " << body;
    EXPECT_FALSE(error.message.empty()) << body;
    return error;
  }

  RequestFieldParser parser_;
};

TEST_F(RequestFieldParserTest, ExtractsModelAndStream) {
  RequestFields fields = accepted(R"({"model":"gpt-4o","stream":true,"messages":[]})");
  EXPECT_EQ(fields.model, "gpt-4o");
  EXPECT_TRUE(fields.stream);
}

TEST_F(RequestFieldParserTest, StreamFalseNullOrAbsentMeansNotStreamed) {
  EXPECT_FALSE(accepted(R"({"model":"m","stream":false})").stream);
  EXPECT_FALSE(accepted(R"({"model":"m","stream":null})").stream);
  EXPECT_FALSE(accepted(R"({"model":"m"})").stream);
  EXPECT_TRUE(accepted(R"({"stream":true,"model":"m"})").stream);
}

TEST_F(RequestFieldParserTest, ModelOffsetsDelimitTheQuotedToken) {
  for (std::string_view body : {
           std::string_view(R"({"model":"gpt-4o"})"),
           std::string_view(R"({ "model" : "gpt-4o" , "stream": false })"),
           std::string_view(
               "{\n  \"messages\": [{\"role\": \"user\"}],\n  \"model\":\t\"gpt-4o\"\n}"),
           std::string_view(R"({"stream":true,"model":"gpt-4o"})"),
       }) {
    RequestFields fields = accepted(body);
    EXPECT_EQ(fields.model, "gpt-4o") << body;
    ASSERT_LT(fields.model_begin, fields.model_end) << body;
    ASSERT_LE(fields.model_end, body.size()) << body;
    EXPECT_EQ(body.substr(fields.model_begin, fields.model_end - fields.model_begin), "\"gpt-4o\"")
        << body;
  }
}

TEST_F(RequestFieldParserTest, UnescapesModelName) {
  std::string_view quoted = R"({"model":"a\"b","stream":false})";
  RequestFields fields = accepted(quoted);
  EXPECT_EQ(fields.model, "a\"b");
  EXPECT_EQ(quoted.substr(fields.model_begin, fields.model_end - fields.model_begin), R"("a\"b")");

  std::string_view unicode = R"({"model":"caf\u00e9-\ud83d\ude00"})";
  fields = accepted(unicode);
  EXPECT_EQ(fields.model, "caf\xc3\xa9-\xf0\x9f\x98\x80");
  EXPECT_EQ(unicode.substr(fields.model_begin, fields.model_end - fields.model_begin),
            R"("caf\u00e9-\ud83d\ude00")");

  std::string_view backslash = R"({"model":"a\\"})";
  fields = accepted(backslash);
  EXPECT_EQ(fields.model, "a\\");
  EXPECT_EQ(backslash.substr(fields.model_begin, fields.model_end - fields.model_begin),
            R"("a\\")");
}

TEST_F(RequestFieldParserTest, RejectsInvalidJson) {
  for (std::string_view body :
       {"", " ", "{", R"({"model" "m"})", R"({model:"m"})", R"({"model":"m" "stream":true})",
        R"({"model":"m",,"stream":true})"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.code, "invalid_json") << body;
    EXPECT_EQ(error.param, "") << body;
  }
}

// Disabled: malformed JSON where an object or a string value is expected is reported as a type
// error rather than as invalid JSON. RequestFieldParser::parse() maps every get_object() error
// INCORRECT_TYPE, and every get_string() error on `model`, to code "invalid_value":
//   "not json", "}"   -> "The request body must be a JSON object." (invalid_value)
//   {"model":}        -> "'model' must be a string." (invalid_value, param "model")
//   {"model":'m'}     -> "'model' must be a string." (invalid_value, param "model")
// where "invalid_json" ("We could not parse the JSON body of your request.") is expected.
TEST_F(RequestFieldParserTest, ReportsMalformedValuesAsInvalidJson) {
  for (std::string_view body : {"not json", "}", R"({"model":})", R"({"model":'m'})"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.code, "invalid_json") << body;
    EXPECT_EQ(error.param, "") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsTruncatedJson) {
  for (std::string_view body : {R"({"model":"m")", R"({"model":"m",)", R"({"model":"m)",
                                R"({"model":"m","stream":tr)", R"({"model":"m","stream":true)"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.code, "invalid_json") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsBodiesThatAreNotObjects) {
  for (std::string_view body : {R"([{"model":"m"}])", R"("model")", "42", "null", "true"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.code, "invalid_value") << body;
    EXPECT_EQ(error.param, "") << body;
    EXPECT_EQ(error.message, "The request body must be a JSON object.") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsMissingModel) {
  for (std::string_view body : {"{}", R"({"stream":true})", R"({"models":"m"})"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.param, "model") << body;
    EXPECT_EQ(error.code, "invalid_value") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsModelThatIsNotAString) {
  for (std::string_view body : {R"({"model":42})", R"({"model":null})", R"({"model":["m"]})",
                                R"({"model":{"name":"m"}})", R"({"model":true})"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.param, "model") << body;
    EXPECT_EQ(error.message, "'model' must be a string.") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsDuplicateModel) {
  FieldError error = rejected(R"({"model":"a","stream":false,"model":"b"})");
  EXPECT_EQ(error.param, "model");
  EXPECT_EQ(error.code, "invalid_value");
  EXPECT_EQ(error.message, "The request body has more than one 'model'.");
}

TEST_F(RequestFieldParserTest, RejectsStreamThatIsNotABoolean) {
  for (std::string_view body : {R"({"model":"m","stream":"true"})", R"({"model":"m","stream":1})",
                                R"({"model":"m","stream":[]})", R"({"model":"m","stream":{}})"}) {
    FieldError error = rejected(body);
    EXPECT_EQ(error.param, "stream") << body;
    EXPECT_EQ(error.code, "invalid_value") << body;
  }
}

TEST_F(RequestFieldParserTest, RejectsDuplicateStream) {
  FieldError error = rejected(R"({"model":"m","stream":true,"stream":false})");
  EXPECT_EQ(error.param, "stream");
  EXPECT_EQ(error.message, "The request body has more than one 'stream'.");
}

TEST_F(RequestFieldParserTest, IgnoresUnknownFieldsNestedObjectsAndArrays) {
  RequestFields fields = accepted(R"({
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi \"model\""}]}],
    "thinking": {"type": "enabled", "budget_tokens": 1024, "model": "not-this-one"},
    "tools": [[1, 2, [3]], {"model": "nor-this"}],
    "top_k": 5,
    "temperature": 0.5,
    "reasoning_content": null,
    "model": "deepseek-reasoner",
    "stream": true
  })");
  EXPECT_EQ(fields.model, "deepseek-reasoner");
  EXPECT_TRUE(fields.stream);
}

TEST_F(RequestFieldParserTest, ReusesOneParserForBodiesOfDifferentSizes) {
  std::string big = R"({"messages":[)";
  for (int i = 0; i < 5000; ++i) {
    big += R"({"role":"user","content":"message number )" + std::to_string(i) + R"("},)";
  }
  big += R"({"role":"user","content":"last"}],"model":"big-model","stream":true})";
  RequestFields big_fields = accepted(big);
  EXPECT_EQ(big_fields.model, "big-model");
  EXPECT_TRUE(big_fields.stream);
  EXPECT_EQ(big.substr(big_fields.model_begin, big_fields.model_end - big_fields.model_begin),
            "\"big-model\"");

  std::string_view small = R"({"model":"s"})";
  RequestFields small_fields = accepted(small);
  EXPECT_EQ(small_fields.model, "s");
  EXPECT_FALSE(small_fields.stream);
  EXPECT_EQ(small_fields.model_begin, 9u);
  EXPECT_EQ(small_fields.model_end, 12u);

  // A rejected body in between leaves the parser usable.
  EXPECT_EQ(rejected("{\"model\":").code, "invalid_json");
  EXPECT_EQ(accepted(big).model, "big-model");
  EXPECT_EQ(accepted(R"({"model":"again"})").model, "again");
}

// Regression (fuzz/request_fields_fuzz.cc): a malformed message used to end the scan of the
// body's fields silently, so that with input features on, the `stream` after it went unseen and
// the request was accepted as not streamed.
TEST_F(RequestFieldParserTest, MalformedMessagesWithInputScannerAreInvalidJson) {
  const observe::InputLimits limits;
  for (std::string_view body : {
           R"({"model":"m","messages":[{"rful."},{"role":"user","content":"hi"}],"stream":true})",
           R"({"model":"m","messages":[{"content":[{"text"}]}],"stream":true})",
           R"({"model":"m","prompt":["a","bad \x escape"],"stream":true})",
           R"({"model":"m","messages":[{"content":"bad \x escape"}],"model":"n"})",
       }) {
    observe::InputScanner input(limits);
    RequestFields fields;
    FieldError error;
    EXPECT_FALSE(parser_.parse(body, &fields, &error, &input)) << body;
    EXPECT_EQ(error.code, "invalid_json") << body;
  }
}

TEST_F(RequestFieldParserTest, ValuesOfOtherTypesInMessagesAreSkippedNotErrors) {
  const observe::InputLimits limits;
  observe::InputScanner input(limits);
  RequestFields fields;
  FieldError error;
  ASSERT_TRUE(parser_.parse(
      R"({"model":"m","messages":[{"content":7},{"content":[{"text":2},{"text":"ok"}]}],)"
      R"("prompt":{"a":1},"input":[1,2],"stream":true})",
      &fields, &error, &input))
      << error.message;
  EXPECT_EQ(fields.model, "m");
  EXPECT_TRUE(fields.stream);
  EXPECT_EQ(input.chars(), 2u);
}

// Parses `body` and rewrites its model to `model`.
std::string rewritten(std::string_view body, std::string_view model) {
  RequestFieldParser parser;
  RequestFields fields;
  FieldError error;
  EXPECT_TRUE(parser.parse(body, &fields, &error)) << body << ": " << error.message;
  return rewriteModel(body, fields, model);
}

TEST(RewriteModelTest, ReplacesOnlyTheModelValue) {
  EXPECT_EQ(rewritten(R"({"model":"chat","stream":true,"messages":[{"role":"user"}]})", "chat-v2"),
            R"({"model":"chat-v2","stream":true,"messages":[{"role":"user"}]})");
}

TEST(RewriteModelTest, ModelAsLastField) {
  EXPECT_EQ(rewritten(R"({"messages":[],"thinking":{"type":"enabled"},"model":"chat"})", "up"),
            R"({"messages":[],"thinking":{"type":"enabled"},"model":"up"})");
}

TEST(RewriteModelTest, KeepsWhitespaceAroundTheValue) {
  EXPECT_EQ(rewritten("{ \"model\" :  \"chat\"  ,\n \"stream\" : false }", "x"),
            "{ \"model\" :  \"x\"  ,\n \"stream\" : false }");
  EXPECT_EQ(rewritten("{\n  \"stream\": true,\n  \"model\":\t\"chat\"\n}\n", "deep-seek"),
            "{\n  \"stream\": true,\n  \"model\":\t\"deep-seek\"\n}\n");
}

TEST(RewriteModelTest, ReplacesEscapedModelAndEscapesTheNewOne) {
  EXPECT_EQ(rewritten(R"({"model":"a\"b\u00e9","n":1})", "plain"), R"({"model":"plain","n":1})");
  EXPECT_EQ(rewritten(R"({"model":"m","n":1})", "q\"uote\\d"), R"({"model":"q\"uote\\d","n":1})");
}

TEST(RewriteModelTest, LongerAndShorterNamesKeepTheRestIdentical) {
  std::string body = R"({"model":"medium-name","messages":[{"content":"model: \"medium-name\""}]})";
  EXPECT_EQ(rewritten(body, "m"),
            R"({"model":"m","messages":[{"content":"model: \"medium-name\""}]})");
  EXPECT_EQ(
      rewritten(body, "a-much-longer-upstream-model-name"),
      R"({"model":"a-much-longer-upstream-model-name","messages":[{"content":"model: \"medium-name\""}]})");
}

}  // namespace
}  // namespace dw::gateway
