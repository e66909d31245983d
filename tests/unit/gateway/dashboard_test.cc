#include "gateway/dashboard.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dw::gateway {
namespace {

using ::testing::HasSubstr;
namespace http = net::http;

net::Request get(const char* target) { return net::Request{http::verb::get, target, 11}; }

TEST(DashboardTest, TheRootAndUiRedirectToUiSlash) {
  const Dashboard dashboard = Dashboard::load("/nonexistent/dashboard");
  for (const char* target : {"/", "/ui", "/?x=1"}) {
    const net::Response r = dashboard.respond(get(target));
    EXPECT_EQ(r.result(), http::status::found) << target;
    EXPECT_EQ(r[http::field::location], "/ui/") << target;
  }
  EXPECT_TRUE(Dashboard::handles("/ui/app.js"));
  EXPECT_FALSE(Dashboard::handles("/uiapp.js"));
  EXPECT_FALSE(Dashboard::handles("/admin/v1/whoami"));
}

TEST(DashboardTest, WithoutFilesUiAnswers404AndSaysWhy) {
  const Dashboard dashboard = Dashboard::load("/nonexistent/dashboard");
  EXPECT_FALSE(dashboard.available());
  const net::Response r = dashboard.respond(get("/ui/"));
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_THAT(r.body(), HasSubstr("/nonexistent/dashboard is not a directory"));
  EXPECT_THAT(r.body(), HasSubstr("listeners.admin.dashboard_dir"));
}

TEST(DashboardTest, ServesTheDirectoryUnderUi) {
  std::string pattern = (std::filesystem::temp_directory_path() / "dw_dash_XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  std::ofstream(std::filesystem::path(pattern) / "index.html") << "<!doctype html>";
  std::ofstream(std::filesystem::path(pattern) / "app.js") << "1;";
  const Dashboard dashboard = Dashboard::load(pattern);
  ASSERT_TRUE(dashboard.available());
  EXPECT_EQ(dashboard.respond(get("/ui/")).body(), "<!doctype html>");
  EXPECT_EQ(dashboard.respond(get("/ui/app.js?v=2")).body(), "1;");
  EXPECT_EQ(dashboard.respond(get("/ui/../deepwatch.db")).result(), http::status::bad_request);
  // A directory without index.html is no dashboard.
  std::filesystem::remove(std::filesystem::path(pattern) / "index.html");
  EXPECT_FALSE(Dashboard::load(pattern).available());
  std::filesystem::remove_all(pattern);
}

TEST(DashboardTest, TheDefaultDirectoryIsBesideTheExecutable) {
  const std::vector<std::string> dirs = defaultDashboardDirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_TRUE(dirs[0].ends_with("/web"));
  EXPECT_TRUE(dirs[1].ends_with("share/deepwatch/web"));
}

}  // namespace
}  // namespace dw::gateway
