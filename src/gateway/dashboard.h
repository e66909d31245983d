// The web dashboard on the admin listener (R6): `GET /` redirects to `/ui/`, and `/ui/...`
// serves the files of web/ (HTML, JavaScript, CSS and the chart library the build copied next to
// the executable). The files hold no data and are public; the page asks for a key and reads
// everything through the admin API with it, under the same RBAC as any other caller. Without
// the files the gateway still starts, and /ui/ says why in a 404.
//
// Thread contract: load() at start; afterwards immutable, respond() is called on any admin
// worker without locks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_server.h"
#include "net/static_files.h"

namespace dw::gateway {

class Dashboard {
 public:
  // Reads `configured_dir`, or when it is empty the first of defaultDashboardDirs() that exists.
  // Logs where the files come from, or why there are none.
  static Dashboard load(const std::string& configured_dir);
  // The same from files already in memory (tests).
  static Dashboard fromFiles(net::StaticFiles files, std::string dir);

  // Whether the dashboard answers `path`: "/", "/ui" and everything under "/ui/".
  static bool handles(std::string_view path);

  bool available() const { return files_.has_value(); }
  const std::string& dir() const { return dir_; }

  // Redirects "/" and "/ui" to "/ui/"; serves files below "/ui/" (net::StaticFiles::respond).
  net::Response respond(const net::Request& request) const;

 private:
  std::optional<net::StaticFiles> files_;
  std::string dir_;
  std::string problem_;  // Why there are no files (the 404's text).
};

// Where the dashboard is looked for when the configuration names no directory: `web` beside the
// executable (the build tree), then `../share/deepwatch/web` from it (an installed layout).
std::vector<std::string> defaultDashboardDirs();

}  // namespace dw::gateway
