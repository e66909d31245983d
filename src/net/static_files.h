// Static files served from memory: the web dashboard's HTML, JavaScript and CSS (web/, copied
// into the build tree), read once when the gateway starts so that serving one is a map lookup
// with no file system access on a worker. Every answer carries a validator (ETag, so a reload
// costs a 304), `Cache-Control: no-cache` (the names are not content-hashed, so a browser must
// revalidate after an upgrade) and the browser security headers the dashboard relies on: a
// Content-Security-Policy that allows only this origin (no inline script or style, no CDN),
// nosniff, no framing, no referrer.
//
// Thread contract: load() builds a set; afterwards it is immutable and every const method is
// thread-safe (the admin workers share one set without locks).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http_server.h"

namespace dw::net {

// The Content-Security-Policy of every static answer: scripts, styles, images and API calls
// from this origin only; no plugins, no <base>, no framing.
inline constexpr std::string_view kStaticCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The media type of a file name by its extension ("app.js" -> "text/javascript; charset=utf-8");
// application/octet-stream for an unknown one (served with nosniff, so never run as script).
std::string_view contentTypeFor(std::string_view name);

// A request path below the mount point ("vendor/uPlot.js", percent-encoded as it came) made into
// a relative file name, or nothing when it is not one: an empty, "." or ".." segment, a
// backslash, a NUL or a bad percent escape (after decoding), so it can never leave the directory.
std::optional<std::string> cleanRelativePath(std::string_view raw);

class StaticFiles {
 public:
  struct File {
    std::string body;
    std::string_view content_type;
    std::string etag;  // A strong validator: "<hash of the bytes>-<size>", quoted.
  };
  struct Limits {
    size_t max_files = 256;
    uint64_t max_bytes = 32 * 1024 * 1024;  // The whole set is held in memory.
  };

  // Reads every regular file under `dir` (recursively; symbolic links and other special files
  // are skipped, so nothing outside `dir` is read). Fails when `dir` is not a readable directory
  // or holds more than the limits allow.
  static StatusOr<StaticFiles> load(const std::string& dir, Limits limits);
  static StatusOr<StaticFiles> load(const std::string& dir) { return load(dir, Limits{}); }

  // A file by its relative name ("index.html"), or nullptr.
  const File* find(std::string_view name) const;
  size_t fileCount() const { return files_.size(); }
  uint64_t totalBytes() const { return total_bytes_; }

  // The answer to `request` for the part of its path below the mount point (`relative`, still
  // percent-encoded; empty means index.html): 200 with the file, 304 when If-None-Match names its
  // ETag, 400 for a path that is not a clean relative name, 404 when there is no such file, 405
  // for a method other than GET.
  Response respond(const Request& request, std::string_view relative) const;

 private:
  std::map<std::string, File, std::less<>> files_;
  uint64_t total_bytes_ = 0;
};

// Adds the headers every dashboard answer carries, errors included: the CSP above, nosniff,
// X-Frame-Options DENY, Referrer-Policy no-referrer.
void addBrowserSecurityHeaders(Response& response);

// A plain-text answer with the browser security headers (the dashboard's 4xx).
Response plainTextResponse(http::status status, std::string text);

}  // namespace dw::net
