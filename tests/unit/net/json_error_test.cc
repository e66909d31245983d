#include "net/json_error.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dw::net {
namespace {

using nlohmann::json;

TEST(OpenAiErrorJsonTest, WritesNullParamAndCodeWhenEmpty) {
  EXPECT_EQ(openAiErrorJson("Something failed.", "server_error", "", ""),
            R"({"error":{"message":"Something failed.","type":"server_error",)"
            R"("param":null,"code":null}})");
}

TEST(OpenAiErrorJsonTest, WritesParamAndCodeAsStrings) {
  json body =
      json::parse(openAiErrorJson("'n' must be 1.", "invalid_request_error", "n", "invalid_value"));
  ASSERT_TRUE(body.contains("error"));
  const json& error = body["error"];
  EXPECT_EQ(error.size(), 4u);
  EXPECT_EQ(error["message"], "'n' must be 1.");
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(error["param"], "n");
  EXPECT_EQ(error["code"], "invalid_value");
}

TEST(OpenAiErrorJsonTest, ParsesBackWithNulls) {
  json body = json::parse(openAiErrorJson("m", "t", "", ""));
  EXPECT_TRUE(body["error"]["param"].is_null());
  EXPECT_TRUE(body["error"]["code"].is_null());
}

TEST(OpenAiErrorJsonTest, EscapesQuotesBackslashesAndControlCharacters) {
  const std::string message = std::string("say \"hi\" C:\\dir\nline\ttab\rcr \x01\x1f end ") +
                              std::string(1, '\0') + "nul 床";
  const std::string param = "messages[0].\"role\"";
  const std::string text = openAiErrorJson(message, "invalid_request_error", param, "bad\\code");
  // Control characters never appear raw in the output.
  for (char c : text) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << text;
  }
  json body = json::parse(text);
  EXPECT_EQ(body["error"]["message"], message);
  EXPECT_EQ(body["error"]["param"], param);
  EXPECT_EQ(body["error"]["code"], "bad\\code");
}

TEST(AppendJsonStringTest, QuotesAndEscapes) {
  std::string out = "x=";
  appendJsonString(out, "a\"b\\c\n\x02");
  EXPECT_EQ(out, R"(x="a\"b\\c\n\u0002")");
}

TEST(AppendJsonStringTest, KeepsUtf8AsIs) {
  std::string out;
  appendJsonString(out, "床前 café");
  EXPECT_EQ(out, "\"床前 café\"");
}

}  // namespace
}  // namespace dw::net
