#include "net/static_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "base/hash.h"

namespace dw::net {

namespace {

namespace fs = std::filesystem;

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
bool noneMatchHits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view tag = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag == "*") {
      return true;
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);
    }
    if (tag == etag) {
      return true;
    }
  }
  return false;
}

std::string etagOf(std::string_view body) {
  return fmt::format("\"{:016x}-{:x}\"", stableHash(body), body.size());
}

StatusOr<std::string> readWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return notFound(fmt::format("cannot read {}", path.string()));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    return internalError(fmt::format("error reading {}", path.string()));
  }
  return std::move(out).str();
}

}  // namespace

std::string_view contentTypeFor(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  const size_t slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) {
    return "application/octet-stream";
  }
  std::string ext(base.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : kTypes) {
    if (ext == suffix) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::optional<std::string> cleanRelativePath(std::string_view raw) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      decoded.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size()) {
      return std::nullopt;
    }
    const int hi = hexValue(raw[i + 1]);
    const int lo = hexValue(raw[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (decoded.empty()) {
    return std::nullopt;
  }
  // Checked after decoding, so that %2e%2e or %2f cannot smuggle a segment past the check.
  std::string_view rest = decoded;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return std::nullopt;
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return decoded;
}

StatusOr<StaticFiles> StaticFiles::load(const std::string& dir, Limits limits) {
  std::error_code ec;
  const fs::path root = fs::path(dir);
  if (!fs::is_directory(root, ec)) {
    return notFound(fmt::format("{} is not a directory", dir));
  }
  StaticFiles set;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) {
    return notFound(fmt::format("cannot list {}: {}", dir, ec.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return internalError(fmt::format("cannot list {}: {}", dir, ec.message()));
    }
    // symlink_status: a link is skipped rather than followed out of the directory.
    const fs::file_status status = it->symlink_status(ec);
    if (ec || !fs::is_regular_file(status)) {
      continue;
    }
    const std::string name = it->path().lexically_relative(root).generic_string();
    if (!cleanRelativePath(name)) {
      continue;  // A name a request could not address ("%" in it, say).
    }
    if (set.files_.size() >= limits.max_files) {
      return resourceExhausted(fmt::format("{} holds more than {} files", dir, limits.max_files));
    }
    DW_ASSIGN_OR_RETURN(std::string body, readWhole(it->path()));
    set.total_bytes_ += body.size();
    if (set.total_bytes_ > limits.max_bytes) {
      return resourceExhausted(fmt::format("{} holds more than {} bytes", dir, limits.max_bytes));
    }
    File file;
    file.content_type = contentTypeFor(name);
    file.etag = etagOf(body);
    file.body = std::move(body);
    set.files_.emplace(name, std::move(file));
  }
  return set;
}

const StaticFiles::File* StaticFiles::find(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

void addBrowserSecurityHeaders(Response& response) {
  response.set("Content-Security-Policy", kStaticCsp);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
}

Response plainTextResponse(http::status status, std::string text) {
  Response response(status, 11);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  addBrowserSecurityHeaders(response);
  response.body() = std::move(text);
  return response;
}

Response StaticFiles::respond(const Request& request, std::string_view relative) const {
  if (request.method() != http::verb::get) {
    Response response = plainTextResponse(http::status::method_not_allowed,
                                          "The dashboard's files answer GET only.\n");
    response.set(http::field::allow, "GET");
    return response;
  }
  // A directory ("", "docs/") stands for its index.html.
  std::string wanted(relative);
  if (wanted.empty() || wanted.back() == '/') {
    wanted += "index.html";
  }
  const std::optional<std::string> name = cleanRelativePath(wanted);
  if (!name) {
    return plainTextResponse(http::status::bad_request,
                             "The path must name a file inside the dashboard's directory.\n");
  }
  const File* file = find(*name);
  if (file == nullptr) {
    return plainTextResponse(http::status::not_found,
                             fmt::format("The dashboard has no file '{}'.\n", *name));
  }
  const auto if_none_match = request.find(http::field::if_none_match);
  const bool not_modified =
      if_none_match != request.end() && noneMatchHits(if_none_match->value(), file->etag);
  Response response(not_modified ? http::status::not_modified : http::status::ok, 11);
  response.set(http::field::etag, file->etag);
  response.set(http::field::cache_control, "no-cache");
  addBrowserSecurityHeaders(response);
  if (!not_modified) {
    response.set(http::field::content_type, file->content_type);
    response.body() = file->body;
  }
  return response;
}

}  // namespace dw::net
