#include "net/static_files.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dw::net {
namespace {

using ::testing::HasSubstr;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_static_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // A secret beside the served directory: no request may reach it.
    std::filesystem::create_directories(dir_ / "web" / "vendor");
    write("secret.txt", "top secret");
    write("web/index.html", "<!doctype html><title>dw</title>");
    write("web/app.js", "export const answer = 42;\n");
    write("web/style.css", "body { margin: 0; }\n");
    write("web/vendor/uPlot.iife.min.js", "var uPlot = 1;");
    write("web/favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "web" / "linked.txt");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  StaticFiles loaded() {
    auto files = StaticFiles::load((dir_ / "web").string());
    EXPECT_TRUE(files.ok()) << files.status().toString();
    return files.ok() ? std::move(files).value() : StaticFiles();
  }
  static Request get(std::string target) {
    Request request{http::verb::get, target, 11};
    return request;
  }

  std::filesystem::path dir_;
};

TEST_F(StaticFilesTest, ServesEachFileWithItsContentTypeAndSecurityHeaders) {
  const StaticFiles files = loaded();
  EXPECT_EQ(files.fileCount(), 5u);  // The symbolic link is not followed.
  const struct {
    const char* path;
    const char* type;
    const char* body;
  } cases[] = {
      {"", "text/html; charset=utf-8", "<!doctype html><title>dw</title>"},
      {"index.html", "text/html; charset=utf-8", "<!doctype html><title>dw</title>"},
      {"app.js", "text/javascript; charset=utf-8", "export const answer = 42;\n"},
      {"style.css", "text/css; charset=utf-8", "body { margin: 0; }\n"},
      {"vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8", "var uPlot = 1;"},
      {"favicon.svg", "image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"},
  };
  for (const auto& c : cases) {
    const Response r = files.respond(get(std::string("/ui/") + c.path), c.path);
    EXPECT_EQ(r.result(), http::status::ok) << c.path;
    EXPECT_EQ(r[http::field::content_type], c.type) << c.path;
    EXPECT_EQ(r.body(), c.body) << c.path;
    EXPECT_EQ(r[http::field::cache_control], "no-cache");
    EXPECT_EQ(r["Content-Security-Policy"], kStaticCsp);
    EXPECT_THAT(std::string(r["Content-Security-Policy"]), HasSubstr("default-src 'self'"));
    EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r["X-Frame-Options"], "DENY");
    EXPECT_EQ(r["Referrer-Policy"], "no-referrer");
  }
}

TEST_F(StaticFilesTest, RefusesEveryPathThatWouldLeaveTheDirectory) {
  const StaticFiles files = loaded();
  for (const char* path :
       {"../secret.txt", "vendor/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt",
        "vendor/%2e%2e/%2e%2e/secret.txt", "..%5csecret.txt", "./index.html",
        "vendor//uPlot.iife.min.js", "index.html%00.js", "bad%zzescape", "trailing%2"}) {
    const Response r = files.respond(get(std::string("/ui/") + path), path);
    EXPECT_EQ(r.result(), http::status::bad_request) << path;
    EXPECT_THAT(r.body(), ::testing::Not(HasSubstr("top secret"))) << path;
    EXPECT_EQ(r["X-Content-Type-Options"], "nosniff") << path;
  }
  // Names that are clean but absent, or a link out of the directory, are plain 404s.
  for (const char* path : {"secret.txt", "linked.txt", "vendor/missing.js"}) {
    const Response r = files.respond(get(std::string("/ui/") + path), path);
    EXPECT_EQ(r.result(), http::status::not_found) << path;
    EXPECT_THAT(r.body(), ::testing::Not(HasSubstr("top secret"))) << path;
  }
}

TEST_F(StaticFilesTest, AnEtagThatMatchesGetsANotModifiedWithoutBody) {
  const StaticFiles files = loaded();
  const Response first = files.respond(get("/ui/app.js"), "app.js");
  const std::string etag(first[http::field::etag]);
  ASSERT_THAT(etag, ::testing::MatchesRegex("\"[0-9a-f]{16}-[0-9a-f]+\""));
  EXPECT_NE(etag, std::string(files.respond(get("/ui/style.css"), "style.css")[http::field::etag]));
  for (const std::string& header : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    Request again = get("/ui/app.js");
    again.set(http::field::if_none_match, header);
    const Response r = files.respond(again, "app.js");
    EXPECT_EQ(r.result(), http::status::not_modified) << header;
    EXPECT_TRUE(r.body().empty());
    EXPECT_EQ(r[http::field::etag], etag);
  }
  Request stale = get("/ui/app.js");
  stale.set(http::field::if_none_match, "\"0000000000000000-1\"");
  EXPECT_EQ(files.respond(stale, "app.js").result(), http::status::ok);
}

TEST_F(StaticFilesTest, TheEtagFollowsTheBytes) {
  const std::string before(loaded().respond(get("/ui/app.js"), "app.js")[http::field::etag]);
  write("web/app.js", "export const answer = 43;\n");
  const std::string after(loaded().respond(get("/ui/app.js"), "app.js")[http::field::etag]);
  EXPECT_NE(before, after);
}

TEST_F(StaticFilesTest, OnlyGetIsAnswered) {
  const StaticFiles files = loaded();
  Request post{http::verb::post, "/ui/index.html", 11};
  const Response r = files.respond(post, "index.html");
  EXPECT_EQ(r.result(), http::status::method_not_allowed);
  EXPECT_EQ(r[http::field::allow], "GET");
}

TEST_F(StaticFilesTest, LoadFailsClearlyOnAMissingDirectoryAndPastTheLimits) {
  auto missing = StaticFiles::load((dir_ / "nowhere").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("is not a directory"));
  auto too_many =
      StaticFiles::load((dir_ / "web").string(), {.max_files = 3, .max_bytes = 1 << 20});
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("more than 3 files"));
  auto too_big = StaticFiles::load((dir_ / "web").string(), {.max_files = 100, .max_bytes = 64});
  ASSERT_FALSE(too_big.ok());
  EXPECT_THAT(too_big.status().message(), HasSubstr("more than 64 bytes"));
}

TEST(ContentTypeTest, KnownExtensionsAndAnOpaqueDefault) {
  EXPECT_EQ(contentTypeFor("a/b/INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("x.json"), "application/json");
  EXPECT_EQ(contentTypeFor("x.woff2"), "font/woff2");
  EXPECT_EQ(contentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor("dir.d/file"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor("x.exe"), "application/octet-stream");
}

TEST(CleanRelativePathTest, DecodesAndKeepsCleanNames) {
  EXPECT_EQ(cleanRelativePath("vendor/uPlot.js"), "vendor/uPlot.js");
  EXPECT_EQ(cleanRelativePath("a%20b.txt"), "a b.txt");
  EXPECT_EQ(cleanRelativePath("..."), "...");  // Not a parent reference.
  EXPECT_EQ(cleanRelativePath(""), std::nullopt);
  EXPECT_EQ(cleanRelativePath("/etc/passwd"), std::nullopt);
  EXPECT_EQ(cleanRelativePath("a/"), std::nullopt);
  EXPECT_EQ(cleanRelativePath("a/%2F/b"), std::nullopt);
}

}  // namespace
}  // namespace dw::net
