#include "security/audit_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/utf8.h"
#include "security/audit_ecs.h"
#include "store/database.h"

namespace dw::security {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxFieldBytes = 4096;
constexpr size_t kMaxDetailsBytes = 65536;
constexpr int kCanonicalVersion = 1;
const std::string kZeroHash(64, '0');

constexpr const char* kColumns =
    "seq, time_ms, time_iso, audit_id, actor, actor_kind, operation, target, version_before,"
    " version_after, reason, rbac_decision, rbac_reason, outcome, source_ip, details, refers_to,"
    " impact, prev_hash, leaf_hash, entry_hash";

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string dumpJson(const Json& json) {
  // replace, not strict: dump() must never throw (STYLE.md). Inputs were validated as UTF-8, so
  // the handler never fires for a record that append() accepted.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool hasFloat(const Json& json) {
  if (json.is_number_float()) {
    return true;
  }
  if (json.is_structured()) {
    for (const auto& item : json) {
      if (hasFloat(item)) {
        return true;
      }
    }
  }
  return false;
}

Json impactToJson(const ImpactAssessment& impact) {
  Json metrics = Json::array();
  for (const ImpactMetric& metric : impact.metrics) {
    metrics.push_back(
        Json{{"name", metric.name}, {"before", metric.before}, {"after", metric.after}});
  }
  return Json{{"window_ms", impact.window_ms},
              {"metrics", std::move(metrics)},
              {"verdict", impact.verdict}};
}

const Json* member(const Json& json, const char* key) {
  auto it = json.find(key);
  return it == json.end() ? nullptr : &*it;
}

StatusOr<ImpactAssessment> impactFromJson(std::string_view text) {
  Json json = Json::parse(text, nullptr, false);
  const Json* window = json.is_object() ? member(json, "window_ms") : nullptr;
  const Json* metrics = json.is_object() ? member(json, "metrics") : nullptr;
  const Json* verdict = json.is_object() ? member(json, "verdict") : nullptr;
  if (window == nullptr || !window->is_number_integer() || metrics == nullptr ||
      !metrics->is_array() || verdict == nullptr || !verdict->is_string()) {
    return dataLoss("the impact column is not an impact assessment");
  }
  ImpactAssessment impact;
  impact.window_ms = window->get<int64_t>();
  impact.verdict = verdict->get<std::string>();
  for (const Json& item : *metrics) {
    const Json* name = item.is_object() ? member(item, "name") : nullptr;
    const Json* before = item.is_object() ? member(item, "before") : nullptr;
    const Json* after = item.is_object() ? member(item, "after") : nullptr;
    if (name == nullptr || !name->is_string() || before == nullptr ||
        !before->is_number_integer() || after == nullptr || !after->is_number_integer()) {
      return dataLoss("an impact metric is malformed");
    }
    impact.metrics.push_back(
        ImpactMetric{name->get<std::string>(), before->get<int64_t>(), after->get<int64_t>()});
  }
  return impact;
}

Status checkText(std::string_view field, const std::string& value, bool required) {
  if (required && value.empty()) {
    return invalidArgument(std::string(field) + " is required");
  }
  if (value.size() > kMaxFieldBytes) {
    return invalidArgument(std::string(field) + " is longer than 4096 bytes");
  }
  if (!utf8::isValid(value)) {
    return invalidArgument(std::string(field) + " is not valid UTF-8");
  }
  return okStatus();
}

bool isOperationName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool isIpAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// Checks a record and returns its details in canonical form.
StatusOr<std::string> validate(const AuditRecord& r) {
  DW_RETURN_IF_ERROR(checkText("actor", r.actor, true));
  if (!isOperationName(r.operation)) {
    return invalidArgument("operation must be a lowercase identifier ([a-z][a-z0-9_.]*)");
  }
  DW_RETURN_IF_ERROR(checkText("target", r.target, false));
  DW_RETURN_IF_ERROR(checkText("version_before", r.version_before, false));
  DW_RETURN_IF_ERROR(checkText("version_after", r.version_after, false));
  DW_RETURN_IF_ERROR(checkText("reason", r.reason, false));
  DW_RETURN_IF_ERROR(checkText("rbac_reason", r.rbac_reason, false));
  DW_RETURN_IF_ERROR(checkText("refers_to", r.refers_to, false));
  if (!r.source_ip.empty() && !isIpAddress(r.source_ip)) {
    return invalidArgument("source_ip is not an IP address: " + r.source_ip);
  }
  if (r.details_json.size() > kMaxDetailsBytes) {
    return invalidArgument("details are longer than 65536 bytes");
  }
  Json details = Json::parse(r.details_json.empty() ? "{}" : r.details_json, nullptr, false);
  if (!details.is_object()) {
    return invalidArgument("details must be a JSON object");
  }
  if (hasFloat(details)) {
    return invalidArgument("details may hold integers only (canonical form): scale the value");
  }
  const bool is_impact = r.operation == "impact";
  if (is_impact && (r.refers_to.empty() || !r.impact.has_value())) {
    return invalidArgument("an impact entry needs refers_to and an impact assessment");
  }
  if (!is_impact && r.impact.has_value()) {
    return invalidArgument("only an impact entry carries an impact assessment");
  }
  if (r.impact.has_value()) {
    DW_RETURN_IF_ERROR(checkText("impact verdict", r.impact->verdict, false));
    for (const ImpactMetric& metric : r.impact->metrics) {
      DW_RETURN_IF_ERROR(checkText("impact metric name", metric.name, true));
    }
  }
  return dumpJson(details);
}

std::string anchorPath(const std::string& path) { return path + ".head"; }

struct Anchor {
  int64_t seq = 0;
  std::string entry_hash;
};

// The anchor, or nullopt when the file does not exist.
StatusOr<std::optional<Anchor>> readAnchor(const std::string& path) {
  std::FILE* file = std::fopen(anchorPath(path).c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) {
      return std::optional<Anchor>();
    }
    return unavailable(errnoText("cannot read " + anchorPath(path)));
  }
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  Json json = Json::parse(text, nullptr, false);
  const Json* seq = json.is_object() ? member(json, "seq") : nullptr;
  const Json* hash = json.is_object() ? member(json, "entry_hash") : nullptr;
  if (seq == nullptr || !seq->is_number_integer() || hash == nullptr || !hash->is_string()) {
    return dataLoss(anchorPath(path) + " is not an audit anchor");
  }
  return std::optional<Anchor>(Anchor{seq->get<int64_t>(), hash->get<std::string>()});
}

Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return unavailable(errnoText("write failed"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return okStatus();
}

StatusOr<AuditEntry> entryFromRow(const store::Statement& s) {
  AuditEntry e;
  e.seq = s.integer(0);
  e.time_ms = s.integer(1);
  e.time_iso = s.text(2);
  e.audit_id = s.text(3);
  e.record.actor = s.text(4);
  const auto actor_kind = parseActorKind(s.text(5));
  e.record.operation = s.text(6);
  e.record.target = s.text(7);
  e.record.version_before = s.text(8);
  e.record.version_after = s.text(9);
  e.record.reason = s.text(10);
  const auto decision = parseRbacDecision(s.text(11));
  e.record.rbac_reason = s.text(12);
  const auto outcome = parseAuditOutcome(s.text(13));
  e.record.source_ip = s.text(14);
  e.record.details_json = s.text(15);
  e.record.refers_to = s.text(16);
  const std::string impact = s.text(17);
  e.prev_hash = s.text(18);
  e.leaf_hash = s.text(19);
  e.entry_hash = s.text(20);
  if (!actor_kind || !decision || !outcome) {
    return dataLoss("entry " + std::to_string(e.seq) + " has an unknown actor_kind, " +
                    "rbac_decision or outcome");
  }
  e.record.actor_kind = *actor_kind;
  e.record.rbac_decision = *decision;
  e.record.outcome = *outcome;
  if (!impact.empty()) {
    DW_ASSIGN_OR_RETURN(ImpactAssessment assessment, impactFromJson(impact));
    e.record.impact = std::move(assessment);
  }
  return e;
}

Digest entryHash(const Digest& prev, const Digest& leaf) {
  static constexpr char kNodePrefix = 0x01;
  return sha256({std::string_view(&kNodePrefix, 1), asBytes(prev), asBytes(leaf)});
}

Digest merkleRange(const std::vector<Digest>& leaves, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 1) {
    return leaves[begin];
  }
  size_t k = 1;
  while (k * 2 < n) {
    k *= 2;
  }
  static constexpr char kNodePrefix = 0x01;
  const Digest left = merkleRange(leaves, begin, begin + k);
  const Digest right = merkleRange(leaves, begin + k, end);
  return sha256({std::string_view(&kNodePrefix, 1), asBytes(left), asBytes(right)});
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any failure before COMMIT rolls back, so no
// part of the entry is left behind. Sets *commit_attempted once COMMIT was sent.
template <typename Body>
Status inTransaction(store::Database& db, bool* commit_attempted, Body body) {
  DW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  Status status = body();
  if (status.ok()) {
    *commit_attempted = true;
    status = db.exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db.exec("ROLLBACK");
  }
  return status;
}

}  // namespace

std::string_view actorKindName(ActorKind kind) {
  switch (kind) {
    case ActorKind::kPerson:
      return "person";
    case ActorKind::kController:
      return "controller";
    case ActorKind::kSystem:
      return "system";
  }
  return "person";
}

std::string_view rbacDecisionName(RbacDecision decision) {
  return decision == RbacDecision::kDeny ? "deny" : "allow";
}

std::string_view auditOutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kSuccess:
      return "success";
    case AuditOutcome::kFailure:
      return "failure";
    case AuditOutcome::kDenied:
      return "denied";
  }
  return "failure";
}

std::optional<ActorKind> parseActorKind(std::string_view name) {
  for (ActorKind kind : {ActorKind::kPerson, ActorKind::kController, ActorKind::kSystem}) {
    if (actorKindName(kind) == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::optional<RbacDecision> parseRbacDecision(std::string_view name) {
  for (RbacDecision decision : {RbacDecision::kAllow, RbacDecision::kDeny}) {
    if (rbacDecisionName(decision) == name) {
      return decision;
    }
  }
  return std::nullopt;
}

std::optional<AuditOutcome> parseAuditOutcome(std::string_view name) {
  for (AuditOutcome outcome :
       {AuditOutcome::kSuccess, AuditOutcome::kFailure, AuditOutcome::kDenied}) {
    if (auditOutcomeName(outcome) == name) {
      return outcome;
    }
  }
  return std::nullopt;
}

std::string_view tamperKindName(TamperKind kind) {
  switch (kind) {
    case TamperKind::kNone:
      return "ok";
    case TamperKind::kChanged:
      return "changed";
    case TamperKind::kDeleted:
      return "deleted";
    case TamperKind::kReordered:
      return "reordered";
    case TamperKind::kTruncated:
      return "truncated";
    case TamperKind::kAnchor:
      return "anchor";
  }
  return "changed";
}

Digest leafHash(std::string_view data) {
  static constexpr char kLeafPrefix = 0x00;
  return sha256({std::string_view(&kLeafPrefix, 1), data});
}

Digest merkleTreeHead(const std::vector<Digest>& leaf_hashes) {
  return leaf_hashes.empty() ? sha256("") : merkleRange(leaf_hashes, 0, leaf_hashes.size());
}

StatusOr<std::string> canonicalBytes(const AuditEntry& entry) {
  const AuditRecord& r = entry.record;
  Json details = Json::parse(r.details_json, nullptr, false);
  if (!details.is_object()) {
    return dataLoss("entry " + std::to_string(entry.seq) + ": details are not a JSON object");
  }
  // nlohmann::json keeps object keys in a std::map: dump() writes them sorted by bytes.
  Json canonical = {
      {"v", kCanonicalVersion},
      {"seq", entry.seq},
      {"time_ms", entry.time_ms},
      {"time", entry.time_iso},
      {"audit_id", entry.audit_id},
      {"actor", r.actor},
      {"actor_kind", actorKindName(r.actor_kind)},
      {"operation", r.operation},
      {"target", r.target},
      {"version_before", r.version_before},
      {"version_after", r.version_after},
      {"reason", r.reason},
      {"rbac_decision", rbacDecisionName(r.rbac_decision)},
      {"rbac_reason", r.rbac_reason},
      {"outcome", auditOutcomeName(r.outcome)},
      {"source_ip", r.source_ip},
      {"details", std::move(details)},
      {"refers_to", r.refers_to},
      {"impact", r.impact.has_value() ? impactToJson(*r.impact) : Json(nullptr)},
      {"prev_hash", entry.prev_hash},
  };
  return dumpJson(canonical);
}

std::string formatIsoMicros(int64_t unix_us) {
  int64_t seconds = unix_us / 1000000;
  int64_t micros = unix_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros));
  return buffer;
}

StatusOr<int64_t> parseIsoMillis(std::string_view text) {
  const std::string input(text);
  size_t pos = 0;
  auto number = [&](size_t digits, int* out) {
    if (pos + digits > input.size()) {
      return false;
    }
    int value = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = input[pos + i];
      if (c < '0' || c > '9') {
        return false;
      }
      value = value * 10 + (c - '0');
    }
    pos += digits;
    *out = value;
    return true;
  };
  auto expect = [&](char c) {
    if (pos < input.size() && input[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  const Status bad = invalidArgument("not an ISO-8601 time: " + input);
  std::tm tm{};
  int year = 0;
  int month = 0;
  int day = 0;
  if (!number(4, &year) || !expect('-') || !number(2, &month) || !expect('-') || !number(2, &day) ||
      month < 1 || month > 12 || day < 1 || day > 31) {
    return bad;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  int64_t millis = 0;
  int64_t offset_s = 0;
  if (pos < input.size()) {
    if (!expect('T') && !expect(' ')) {
      return bad;
    }
    if (!number(2, &tm.tm_hour) || !expect(':') || !number(2, &tm.tm_min)) {
      return bad;
    }
    if (expect(':') && !number(2, &tm.tm_sec)) {
      return bad;
    }
    if (expect('.')) {
      int64_t scale = 100;
      size_t digits = 0;
      while (pos < input.size() && input[pos] >= '0' && input[pos] <= '9') {
        millis += (input[pos] - '0') * scale;
        scale /= 10;
        ++pos;
        ++digits;
      }
      if (digits == 0 || digits > 9) {
        return bad;
      }
    }
    if (pos < input.size()) {
      const char sign = input[pos];
      if (expect('Z')) {
      } else if (sign == '+' || sign == '-') {
        ++pos;
        int hours = 0;
        int minutes = 0;
        if (!number(2, &hours) || !expect(':') || !number(2, &minutes)) {
          return bad;
        }
        offset_s = (hours * 3600 + minutes * 60) * (sign == '+' ? 1 : -1);
      } else {
        return bad;
      }
    }
    if (pos != input.size() || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
      return bad;
    }
  }
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return seconds * 1000 + millis;
}

AuditLog::AuditLog(Options options) : options_(std::move(options)) {}

AuditLog::~AuditLog() {
  db_.reset();
  if (ndjson_fd_ >= 0) {
    ::close(ndjson_fd_);
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
  }
}

StatusOr<std::unique_ptr<AuditLog>> AuditLog::open(Options options) {
  if (options.path.empty()) {
    return invalidArgument("the audit log needs a path");
  }
  if (!options.now_us) {
    options.now_us = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  std::lock_guard<std::mutex> lock(log->mutex_);
  DW_RETURN_IF_ERROR(log->openLocked().withContext("audit log " + log->options_.path));
  return log;
}

Status AuditLog::openLocked() {
  const std::string& path = options_.path;
  std::error_code ec;
  if (options_.read_only) {
    if (!std::filesystem::exists(path, ec)) {
      return notFound("no such audit database");
    }
  } else {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return unavailable("cannot create " + parent.string() + ": " + ec.message());
      }
    }
    // One writer per log: two processes appending would race on the anchor file.
    lock_fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) {
      return unavailable(errnoText("cannot open " + path + ".lock"));
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return failedPrecondition("another process writes this audit log");
    }
  }
  DW_ASSIGN_OR_RETURN(db_, store::Database::open(path));
  DW_RETURN_IF_ERROR(
      db_->exec("CREATE TABLE IF NOT EXISTS audit_entries ("
                " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, time_iso TEXT NOT NULL,"
                " audit_id TEXT NOT NULL UNIQUE, actor TEXT NOT NULL, actor_kind TEXT NOT NULL,"
                " operation TEXT NOT NULL, target TEXT NOT NULL, version_before TEXT NOT NULL,"
                " version_after TEXT NOT NULL, reason TEXT NOT NULL, rbac_decision TEXT NOT NULL,"
                " rbac_reason TEXT NOT NULL, outcome TEXT NOT NULL, source_ip TEXT NOT NULL,"
                " details TEXT NOT NULL, refers_to TEXT NOT NULL, impact TEXT NOT NULL,"
                " prev_hash TEXT NOT NULL, leaf_hash TEXT NOT NULL, entry_hash TEXT NOT NULL);"
                "CREATE INDEX IF NOT EXISTS audit_entries_time ON audit_entries (time_ms)"));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return unavailable(errnoText("cannot stat " + path));
  }
  db_inode_ = st.st_ino;
  db_device_ = st.st_dev;
  if (options_.read_only) {
    return okStatus();
  }
  // The anchor must name an entry the database holds with the same hash; a crash between the
  // commit and the anchor's rename leaves the database one entry ahead, which is moved forward.
  int64_t head_seq = 0;
  std::string head_hash = kZeroHash;
  {
    DW_ASSIGN_OR_RETURN(
        store::Statement s,
        db_->prepare("SELECT seq, entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1"));
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (row) {
      head_seq = s.integer(0);
      head_hash = s.text(1);
    }
  }
  DW_ASSIGN_OR_RETURN(std::optional<Anchor> anchor, readAnchor(path));
  if (anchor.has_value()) {
    if (anchor->seq > head_seq) {
      return dataLoss("the anchor names entry " + std::to_string(anchor->seq) +
                      " but the database ends at " + std::to_string(head_seq) + " (truncated)");
    }
    if (anchor->seq > 0) {
      DW_ASSIGN_OR_RETURN(store::Statement s,
                          db_->prepare("SELECT entry_hash FROM audit_entries WHERE seq = ?"));
      s.bind(1, anchor->seq);
      DW_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row || s.text(0) != anchor->entry_hash) {
        return dataLoss("entry " + std::to_string(anchor->seq) +
                        " differs from the anchor (rewritten or deleted)");
      }
    }
  } else if (head_seq > 1) {
    // Only the first append can crash before any anchor exists.
    return dataLoss("the anchor " + anchorPath(path) + " is missing");
  }
  if (!anchor.has_value() || anchor->seq < head_seq) {
    DW_RETURN_IF_ERROR(writeAnchorLocked(head_seq, head_hash));
  }
  if (!options_.ndjson_path.empty()) {
    DW_RETURN_IF_ERROR(reconcileNdjsonLocked(head_seq));
    ndjson_fd_ =
        ::open(options_.ndjson_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (ndjson_fd_ < 0) {
      return unavailable(errnoText("cannot open " + options_.ndjson_path));
    }
  }
  return okStatus();
}

Status AuditLog::reconcileNdjsonLocked(int64_t head_seq) {
  const std::string& path = options_.ndjson_path;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    // A missing file (first start, or rotated away): new entries start it; nothing to refill.
    return errno == ENOENT ? okStatus() : unavailable(errnoText("cannot open " + path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    return okStatus();
  }
  // A line is at most a few tens of KiB (field limits); the tail holds the last whole line.
  const off_t size = st.st_size;
  const off_t start = size > (1 << 18) ? size - (1 << 18) : 0;
  std::string tail(static_cast<size_t>(size - start), '\0');
  const ssize_t got = ::pread(fd, tail.data(), tail.size(), start);
  if (got != static_cast<ssize_t>(tail.size())) {
    ::close(fd);
    return unavailable(errnoText("cannot read " + path));
  }
  // A crash during a write can leave a partial last line: cut it, it is written again below.
  if (tail.back() != '\n') {
    const size_t cut = tail.rfind('\n');
    const off_t keep = cut == std::string::npos ? start : start + static_cast<off_t>(cut) + 1;
    if (::ftruncate(fd, keep) != 0) {
      ::close(fd);
      return unavailable(errnoText("cannot truncate " + path));
    }
    tail.resize(static_cast<size_t>(keep - start));
  }
  ::close(fd);
  int64_t last_seq = -1;
  if (!tail.empty()) {
    tail.pop_back();
    const size_t begin = tail.rfind('\n');
    Json line =
        Json::parse(begin == std::string::npos ? tail : tail.substr(begin + 1), nullptr, false);
    const Json* event = line.is_object() ? member(line, "event") : nullptr;
    const Json* seq = event != nullptr && event->is_object() ? member(*event, "sequence") : nullptr;
    if (seq != nullptr && seq->is_number_integer()) {
      last_seq = seq->get<int64_t>();
    }
  }
  if (last_seq < 0 || last_seq >= head_seq) {
    return okStatus();
  }
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db_->prepare(std::string("SELECT ") + kColumns +
                                   " FROM audit_entries WHERE seq > ? ORDER BY seq"));
  s.bind(1, last_seq);
  std::string lines;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      break;
    }
    DW_ASSIGN_OR_RETURN(AuditEntry entry, entryFromRow(s));
    lines += ecsLine(entry);
    lines += '\n';
  }
  const int out = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (out < 0) {
    return unavailable(errnoText("cannot open " + path));
  }
  Status status = writeAll(out, lines);
  ::close(out);
  DW_LOG_INFO("audit: wrote entries {}..{} to {} after a restart", last_seq + 1, head_seq, path);
  return status;
}

Status AuditLog::writeAnchorLocked(int64_t seq, const std::string& entry_hash) {
  // write-temp + fsync + rename + fsync(dir): the anchor is always a whole old or new file.
  const std::string final_path = anchorPath(options_.path);
  const std::string temp_path = final_path + ".tmp";
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return unavailable(errnoText("cannot write " + temp_path));
  }
  const std::string text = dumpJson(Json{{"seq", seq}, {"entry_hash", entry_hash}}) + "\n";
  Status status = writeAll(fd, text);
  if (status.ok() && ::fsync(fd) != 0) {
    status = unavailable(errnoText("fsync " + temp_path));
  }
  ::close(fd);
  if (status.ok() && ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    status = unavailable(errnoText("rename to " + final_path));
  }
  if (!status.ok()) {
    return status;
  }
  std::string dir = std::filesystem::path(final_path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return unavailable(errnoText("cannot open " + dir));
  }
  const int rc = ::fsync(dir_fd);
  ::close(dir_fd);
  return rc == 0 ? okStatus() : unavailable(errnoText("fsync " + dir));
}

Status AuditLog::appendNdjsonLocked(const AuditEntry& entry) {
  if (ndjson_fd_ < 0) {
    return okStatus();
  }
  // One write() of the whole line on an O_APPEND descriptor: no user-space buffer to flush, and
  // a reader never sees two entries interleaved.
  return writeAll(ndjson_fd_, ecsLine(entry) + "\n").withContext(options_.ndjson_path);
}

Status AuditLog::checkFileLocked() {
  // SQLite keeps writing to an unlinked file through its open descriptor; an append that nobody
  // could ever read back must fail instead.
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) {
    return unavailable(errnoText("the audit database " + options_.path + " is gone"));
  }
  if (static_cast<uint64_t>(st.st_ino) != db_inode_ ||
      static_cast<uint64_t>(st.st_dev) != db_device_) {
    return unavailable("the audit database " + options_.path + " was replaced");
  }
  return okStatus();
}

StatusOr<AuditEntry> AuditLog::insertLocked(const AuditRecord& record) {
  DW_ASSIGN_OR_RETURN(std::string details, validate(record));
  AuditEntry entry;
  entry.record = record;
  entry.record.details_json = std::move(details);
  const int64_t now_us = options_.now_us();
  entry.time_ms = now_us / 1000;
  entry.time_iso = formatIsoMicros(now_us);
  uint8_t id[16];
  randomBytes(id, sizeof id);
  entry.audit_id = toHex(id, sizeof id);
  bool commit_attempted = false;
  Status status = inTransaction(*db_, &commit_attempted, [&]() -> Status {
    // The head is read inside the write transaction, so the chain links to what is committed.
    DW_ASSIGN_OR_RETURN(
        store::Statement head,
        db_->prepare("SELECT seq, entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1"));
    DW_ASSIGN_OR_RETURN(bool row, head.step());
    entry.seq = row ? head.integer(0) + 1 : 1;
    entry.prev_hash = row ? head.text(1) : kZeroHash;
    if (!record.refers_to.empty()) {
      DW_ASSIGN_OR_RETURN(store::Statement s,
                          db_->prepare("SELECT 1 FROM audit_entries WHERE audit_id = ?"));
      s.bind(1, record.refers_to);
      DW_ASSIGN_OR_RETURN(bool found, s.step());
      if (!found) {
        return invalidArgument("refers_to names no audit entry: " + record.refers_to);
      }
    }
    Digest prev{};
    if (!fromHex(entry.prev_hash, &prev)) {
      return dataLoss("entry " + std::to_string(entry.seq - 1) + " has a malformed entry_hash");
    }
    DW_ASSIGN_OR_RETURN(std::string canonical, canonicalBytes(entry));
    const Digest leaf = leafHash(canonical);
    entry.leaf_hash = toHex(leaf);
    entry.entry_hash = toHex(entryHash(prev, leaf));
    DW_ASSIGN_OR_RETURN(store::Statement s,
                        db_->prepare(std::string("INSERT INTO audit_entries (") + kColumns +
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                     " ?, ?, ?, ?, ?)"));
    const AuditRecord& r = entry.record;
    s.bind(1, entry.seq).bind(2, entry.time_ms).bind(3, entry.time_iso).bind(4, entry.audit_id);
    s.bind(5, r.actor).bind(6, actorKindName(r.actor_kind)).bind(7, r.operation);
    s.bind(8, r.target).bind(9, r.version_before).bind(10, r.version_after).bind(11, r.reason);
    s.bind(12, rbacDecisionName(r.rbac_decision)).bind(13, r.rbac_reason);
    s.bind(14, auditOutcomeName(r.outcome)).bind(15, r.source_ip).bind(16, r.details_json);
    s.bind(17, r.refers_to);
    s.bind(18, r.impact.has_value() ? dumpJson(impactToJson(*r.impact)) : std::string());
    s.bind(19, entry.prev_hash).bind(20, entry.leaf_hash).bind(21, entry.entry_hash);
    return s.run();
  });
  if (!status.ok()) {
    if (commit_attempted) {
      // The commit's fate is unknown (fsync failed, say): never retry and go on (fsyncgate).
      failed_ = status;
    }
    return status;
  }
  return entry;
}

StatusOr<AuditEntry> AuditLog::append(const AuditRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.read_only) {
    return failedPrecondition("the audit log was opened read-only");
  }
  if (!failed_.ok()) {
    return failed_.withContext("the audit log failed earlier; reopen it");
  }
  DW_RETURN_IF_ERROR(checkFileLocked());
  DW_ASSIGN_OR_RETURN(AuditEntry entry, insertLocked(record));
  Status status = writeAnchorLocked(entry.seq, entry.entry_hash);
  if (status.ok()) {
    status = appendNdjsonLocked(entry);
  }
  if (!status.ok()) {
    failed_ = status.withContext("entry " + std::to_string(entry.seq) + " committed but");
    return failed_;
  }
  return entry;
}

StatusOr<VerifyResult> AuditLog::verify() {
  std::lock_guard<std::mutex> lock(mutex_);
  VerifyResult result;
  result.head_hash = kZeroHash;
  // The anchor first, then the database: the writer commits before it moves the anchor, so the
  // snapshot read next holds at least what the anchor names.
  std::optional<Anchor> anchor;
  if (options_.check_anchor) {
    StatusOr<std::optional<Anchor>> read = readAnchor(options_.path);
    if (!read.ok()) {
      result.kind = TamperKind::kAnchor;
      result.detail = read.status().message();
      return result;
    }
    anchor = *read;
    result.anchor_seq = anchor.has_value() ? anchor->seq : 0;
  }
  DW_RETURN_IF_ERROR(db_->exec("BEGIN"));
  auto scan = [&]() -> Status {
    std::unordered_map<std::string, int64_t> seq_of_hash;
    {
      DW_ASSIGN_OR_RETURN(store::Statement s,
                          db_->prepare("SELECT seq, entry_hash FROM audit_entries"));
      for (;;) {
        DW_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) {
          break;
        }
        seq_of_hash.emplace(s.text(1), s.integer(0));
      }
    }
    DW_ASSIGN_OR_RETURN(store::Statement s, db_->prepare(std::string("SELECT ") + kColumns +
                                                         " FROM audit_entries ORDER BY seq"));
    Digest running{};
    std::vector<Digest> leaves;
    int64_t expected = 1;
    auto fail = [&](TamperKind kind, int64_t seq, std::string detail) {
      result.kind = kind;
      result.bad_seq = seq;
      result.detail = std::move(detail);
    };
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) {
        break;
      }
      const int64_t seq = s.integer(0);
      const std::string at = "entry " + std::to_string(seq);
      if (seq != expected) {
        fail(TamperKind::kDeleted, expected,
             "entry " + std::to_string(expected) + " is missing (next is " + at + ")");
        break;
      }
      const std::string prev_hash = s.text(18);
      if (prev_hash != toHex(running)) {
        auto it = seq_of_hash.find(prev_hash);
        if (it != seq_of_hash.end() && it->second != seq - 1) {
          fail(TamperKind::kReordered, seq,
               at + " links to entry " + std::to_string(it->second) + ", not its predecessor");
        } else {
          fail(TamperKind::kChanged, seq, at + ": prev_hash does not match the chain");
        }
        break;
      }
      StatusOr<AuditEntry> entry = entryFromRow(s);
      StatusOr<std::string> canonical =
          entry.ok() ? canonicalBytes(*entry) : StatusOr<std::string>(entry.status());
      if (!canonical.ok()) {
        fail(TamperKind::kChanged, seq, canonical.status().message());
        break;
      }
      const Digest leaf = leafHash(*canonical);
      if (toHex(leaf) != entry->leaf_hash) {
        fail(TamperKind::kChanged, seq, at + ": its content does not match its leaf hash");
        break;
      }
      const Digest next = entryHash(running, leaf);
      if (toHex(next) != entry->entry_hash) {
        fail(TamperKind::kChanged, seq, at + ": its entry hash does not match the chain");
        break;
      }
      running = next;
      leaves.push_back(leaf);
      ++expected;
    }
    result.count = expected - 1;
    result.head_hash = toHex(running);
    result.merkle_root = toHex(merkleTreeHead(leaves));
    if (!result.ok() || !options_.check_anchor) {
      return okStatus();
    }
    if (!anchor.has_value()) {
      if (result.count > 1) {
        fail(TamperKind::kAnchor, 0, "the anchor " + anchorPath(options_.path) + " is missing");
      }
      return okStatus();
    }
    if (anchor->seq > result.count) {
      fail(TamperKind::kTruncated, result.count + 1,
           "the anchor names " + std::to_string(anchor->seq) + " entries, the database holds " +
               std::to_string(result.count));
      return okStatus();
    }
    if (anchor->seq > 0) {
      DW_ASSIGN_OR_RETURN(store::Statement a,
                          db_->prepare("SELECT entry_hash FROM audit_entries WHERE seq = ?"));
      a.bind(1, anchor->seq);
      DW_ASSIGN_OR_RETURN(bool row, a.step());
      if (!row || a.text(0) != anchor->entry_hash) {
        fail(TamperKind::kAnchor, anchor->seq,
             "entry " + std::to_string(anchor->seq) +
                 " differs from the anchor: the chain was rewritten");
      }
    }
    return okStatus();
  };
  Status status = scan();
  (void)db_->exec("COMMIT");
  DW_RETURN_IF_ERROR(status);
  return result;
}

StatusOr<std::vector<AuditEntry>> AuditLog::list(const AuditFilter& filter) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_entries WHERE seq > ?";
  if (filter.from_ms) {
    sql += " AND time_ms >= ?";
  }
  if (filter.to_ms) {
    sql += " AND time_ms < ?";
  }
  for (const auto& [column, value] :
       {std::pair<const char*, const std::string*>{"actor", &filter.actor},
        {"operation", &filter.operation},
        {"target", &filter.target}}) {
    if (!value->empty()) {
      sql += std::string(" AND ") + column + " = ?";
    }
  }
  if (filter.outcome) {
    sql += " AND outcome = ?";
  }
  sql += " ORDER BY seq LIMIT ?";
  DW_ASSIGN_OR_RETURN(store::Statement s, db_->prepare(sql));
  int index = 1;
  s.bind(index++, filter.after_seq);
  if (filter.from_ms) {
    s.bind(index++, *filter.from_ms);
  }
  if (filter.to_ms) {
    s.bind(index++, *filter.to_ms);
  }
  for (const std::string* value : {&filter.actor, &filter.operation, &filter.target}) {
    if (!value->empty()) {
      s.bind(index++, *value);
    }
  }
  if (filter.outcome) {
    s.bind(index++, auditOutcomeName(*filter.outcome));
  }
  s.bind(index, filter.limit > 0 ? filter.limit : int64_t{-1});
  std::vector<AuditEntry> entries;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
      return entries;
    }
    DW_ASSIGN_OR_RETURN(AuditEntry entry, entryFromRow(s));
    entries.push_back(std::move(entry));
  }
}

StatusOr<std::string> AuditLog::exportNdjson(const AuditFilter& filter) {
  DW_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, list(filter));
  std::string out;
  for (const AuditEntry& entry : entries) {
    out += ecsLine(entry);
    out += '\n';
  }
  return out;
}

}  // namespace dw::security
