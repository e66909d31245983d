#include "gateway/dashboard.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "base/log.h"

namespace dw::gateway {

namespace fs = std::filesystem;
namespace http = net::http;

std::vector<std::string> defaultDashboardDirs() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    return {};
  }
  const fs::path exe_dir = fs::path(std::string(self, static_cast<size_t>(n))).parent_path();
  return {(exe_dir / "web").string(),
          (exe_dir / ".." / "share" / "deepwatch" / "web").lexically_normal().string()};
}

Dashboard Dashboard::load(const std::string& configured_dir) {
  std::vector<std::string> candidates;
  if (!configured_dir.empty()) {
    candidates.push_back(configured_dir);
  } else {
    candidates = defaultDashboardDirs();
    // The first that exists; when none does, the first is the one reported.
    std::error_code ec;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (fs::is_directory(candidates[i], ec)) {
        candidates = {candidates[i]};
        break;
      }
    }
  }
  Dashboard dashboard;
  dashboard.dir_ = candidates.empty() ? std::string("web") : candidates.front();
  auto files = net::StaticFiles::load(dashboard.dir_);
  if (!files.ok()) {
    dashboard.problem_ = fmt::format(
        "The dashboard is not available: {}. Build it (the build copies web/ next to the "
        "executable) or set listeners.admin.dashboard_dir.\n",
        files.status().message());
    DW_LOG_WARN(
        "dashboard: no files ({}); /ui/ answers 404 until listeners.admin.dashboard_dir "
        "names a directory with them",
        files.status().message());
    return dashboard;
  }
  if (files->find("index.html") == nullptr) {
    dashboard.problem_ = fmt::format(
        "The dashboard is not available: {} has no index.html. Set "
        "listeners.admin.dashboard_dir to the directory of the built dashboard.\n",
        dashboard.dir_);
    DW_LOG_WARN("dashboard: {} has no index.html; /ui/ answers 404", dashboard.dir_);
    return dashboard;
  }
  DW_LOG_INFO("dashboard: {} files ({} bytes) from {}, served at /ui/ on the admin listener",
              files->fileCount(), files->totalBytes(), dashboard.dir_);
  dashboard.files_ = std::move(files).value();
  return dashboard;
}

Dashboard Dashboard::fromFiles(net::StaticFiles files, std::string dir) {
  Dashboard dashboard;
  dashboard.files_ = std::move(files);
  dashboard.dir_ = std::move(dir);
  return dashboard;
}

bool Dashboard::handles(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with("/ui/");
}

net::Response Dashboard::respond(const net::Request& request) const {
  std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/" || path == "/ui") {
    const bool get = request.method() == http::verb::get;
    net::Response response = net::plainTextResponse(
        get ? http::status::found : http::status::method_not_allowed,
        get ? "The dashboard is at /ui/.\n" : "The dashboard answers GET only.\n");
    if (get) {
      response.set(http::field::location, "/ui/");
    } else {
      response.set(http::field::allow, "GET");
    }
    return response;
  }
  if (!files_) {
    return net::plainTextResponse(http::status::not_found, problem_);
  }
  return files_->respond(request, path.substr(4));
}

}  // namespace dw::gateway
