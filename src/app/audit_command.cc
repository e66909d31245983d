// `deepwatch audit`: verify, list and export the audit log (R8), and append to it by hand.
// verify exits 0 when the chain and its anchor hold, 1 naming the first bad entry, 2 when the
// log cannot be read at all.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "security/audit_log.h"

namespace dw::app {
namespace {

using security::AuditLog;

struct AuditFlags {
  std::string db;
  bool json = false;
  bool no_anchor = false;
  std::string from;
  std::string to;
  std::string output;
  std::string actor;
  std::string operation;
  std::string target;
  std::string outcome;
  int64_t after_seq = 0;
  int64_t limit = 0;
  // append
  std::string actor_kind = "person";
  std::string reason;
  std::string version_before;
  std::string version_after;
  std::string source_ip;
  std::string details = "{}";
  std::string ndjson;
  int64_t count = 1;
};

int fail(const char* what, const Status& status) {
  std::fprintf(stderr, "deepwatch audit %s: %s\n", what, status.message().c_str());
  return 2;
}

StatusOr<std::unique_ptr<AuditLog>> openReader(const AuditFlags& flags) {
  AuditLog::Options options;
  options.path = flags.db;
  options.read_only = true;
  options.check_anchor = !flags.no_anchor;
  return AuditLog::open(std::move(options));
}

StatusOr<security::AuditFilter> filterFrom(const AuditFlags& flags) {
  security::AuditFilter filter;
  if (!flags.from.empty()) {
    DW_ASSIGN_OR_RETURN(int64_t from, security::parseIsoMillis(flags.from));
    filter.from_ms = from;
  }
  if (!flags.to.empty()) {
    DW_ASSIGN_OR_RETURN(int64_t to, security::parseIsoMillis(flags.to));
    filter.to_ms = to;
  }
  filter.actor = flags.actor;
  filter.operation = flags.operation;
  filter.target = flags.target;
  if (!flags.outcome.empty()) {
    filter.outcome = security::parseAuditOutcome(flags.outcome);
    if (!filter.outcome) {
      return invalidArgument("--outcome must be success, failure or denied");
    }
  }
  filter.after_seq = flags.after_seq;
  filter.limit = flags.limit;
  return filter;
}

int runVerify(const AuditFlags& flags) {
  auto log = openReader(flags);
  if (!log.ok()) {
    return fail("verify", log.status());
  }
  auto result = (*log)->verify();
  if (!result.ok()) {
    return fail("verify", result.status());
  }
  if (flags.json) {
    nlohmann::json out = {{"ok", result->ok()},
                          {"count", result->count},
                          {"head", result->head_hash},
                          {"merkle_root", result->merkle_root},
                          {"anchor_seq", result->anchor_seq}};
    if (!result->ok()) {
      out["bad_seq"] = result->bad_seq;
      out["kind"] = security::tamperKindName(result->kind);
      out["detail"] = result->detail;
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (result->ok()) {
    std::printf("ok: %lld entries, head %s\n", static_cast<long long>(result->count),
                result->head_hash.c_str());
  } else {
    std::printf("bad: entry %lld %s: %s\n", static_cast<long long>(result->bad_seq),
                std::string(security::tamperKindName(result->kind)).c_str(),
                result->detail.c_str());
  }
  return result->ok() ? 0 : 1;
}

int runExport(const AuditFlags& flags) {
  auto filter = filterFrom(flags);
  if (!filter.ok()) {
    return fail("export", filter.status());
  }
  auto log = openReader(flags);
  if (!log.ok()) {
    return fail("export", log.status());
  }
  auto lines = (*log)->exportNdjson(*filter);
  if (!lines.ok()) {
    return fail("export", lines.status());
  }
  std::FILE* out = flags.output.empty() ? stdout : std::fopen(flags.output.c_str(), "wb");
  if (out == nullptr) {
    return fail("export", unavailable("cannot write " + flags.output));
  }
  const bool written = std::fwrite(lines->data(), 1, lines->size(), out) == lines->size();
  const bool closed = out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  return written && closed ? 0 : fail("export", unavailable("write failed"));
}

nlohmann::json entryJson(const security::AuditEntry& e) {
  const security::AuditRecord& r = e.record;
  nlohmann::json out = {
      {"seq", e.seq},
      {"time", e.time_iso},
      {"time_ms", e.time_ms},
      {"audit_id", e.audit_id},
      {"actor", r.actor},
      {"actor_kind", security::actorKindName(r.actor_kind)},
      {"operation", r.operation},
      {"target", r.target},
      {"version_before", r.version_before},
      {"version_after", r.version_after},
      {"reason", r.reason},
      {"rbac_decision", security::rbacDecisionName(r.rbac_decision)},
      {"rbac_reason", r.rbac_reason},
      {"outcome", security::auditOutcomeName(r.outcome)},
      {"source_ip", r.source_ip},
      {"details", nlohmann::json::parse(r.details_json, nullptr, false)},
      {"refers_to", r.refers_to},
      {"prev_hash", e.prev_hash},
      {"leaf_hash", e.leaf_hash},
      {"entry_hash", e.entry_hash},
  };
  if (r.impact.has_value()) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : r.impact->metrics) {
      metrics.push_back({{"name", m.name}, {"before", m.before}, {"after", m.after}});
    }
    out["impact"] = {
        {"window_ms", r.impact->window_ms}, {"verdict", r.impact->verdict}, {"metrics", metrics}};
  }
  return out;
}

int runList(const AuditFlags& flags) {
  auto filter = filterFrom(flags);
  if (!filter.ok()) {
    return fail("list", filter.status());
  }
  auto log = openReader(flags);
  if (!log.ok()) {
    return fail("list", log.status());
  }
  auto entries = (*log)->list(*filter);
  if (!entries.ok()) {
    return fail("list", entries.status());
  }
  if (flags.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& entry : *entries) {
      out.push_back(entryJson(entry));
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  for (const auto& e : *entries) {
    const security::AuditRecord& r = e.record;
    std::printf("%6lld  %s  %-12s %-14s %-28s %s -> %s  %s  %s\n", static_cast<long long>(e.seq),
                e.time_iso.c_str(), r.actor.c_str(), r.operation.c_str(), r.target.c_str(),
                r.version_before.empty() ? "-" : r.version_before.c_str(),
                r.version_after.empty() ? "-" : r.version_after.c_str(),
                std::string(security::auditOutcomeName(r.outcome)).c_str(), e.audit_id.c_str());
  }
  return 0;
}

int runAppend(const AuditFlags& flags) {
  security::AuditRecord record;
  record.actor = flags.actor;
  auto kind = security::parseActorKind(flags.actor_kind);
  auto outcome = security::parseAuditOutcome(flags.outcome.empty() ? "success" : flags.outcome);
  if (!kind || !outcome) {
    return fail("append", invalidArgument("bad --actor-kind or --outcome"));
  }
  record.actor_kind = *kind;
  record.outcome = *outcome;
  record.operation = flags.operation;
  record.target = flags.target;
  record.reason = flags.reason;
  record.version_before = flags.version_before;
  record.version_after = flags.version_after;
  record.source_ip = flags.source_ip;
  record.details_json = flags.details;
  record.rbac_reason = "manual entry from the command line";
  AuditLog::Options options;
  options.path = flags.db;
  options.ndjson_path = flags.ndjson;
  auto log = AuditLog::open(std::move(options));
  if (!log.ok()) {
    return fail("append", log.status());
  }
  for (int64_t i = 0; i < flags.count; ++i) {
    auto entry = (*log)->append(record);
    if (!entry.ok()) {
      return fail("append", entry.status());
    }
    // Printed only once append() returned: each line is an acknowledged, durable entry.
    std::printf("%lld\n", static_cast<long long>(entry->seq));
    std::fflush(stdout);
  }
  return 0;
}

void addCommonOptions(CLI::App* command, AuditFlags* flags) {
  command->add_option("--db", flags->db, "The audit SQLite file")->required();
}

void addFilterOptions(CLI::App* command, AuditFlags* flags) {
  command->add_option("--from", flags->from, "Entries at or after this ISO-8601 time");
  command->add_option("--to", flags->to, "Entries before this ISO-8601 time");
  command->add_option("--actor", flags->actor, "Only this actor");
  command->add_option("--operation", flags->operation, "Only this operation");
  command->add_option("--target", flags->target, "Only this target");
  command->add_option("--outcome", flags->outcome, "success, failure or denied");
  command->add_option("--after-seq", flags->after_seq, "Entries with a greater seq");
  command->add_option("--limit", flags->limit, "At most this many entries (0: all)");
}

}  // namespace

void addAuditCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* audit = app.add_subcommand("audit", "Verify, list and export the audit log");
  audit->require_subcommand(1);

  CLI::App* verify = audit->add_subcommand("verify", "Check the hash chain and its anchor");
  addCommonOptions(verify, flags.get());
  verify->add_flag("--no-anchor", flags->no_anchor,
                   "Skip the <db>.head comparison (a copied database without its anchor)");
  verify->add_flag("--json", flags->json, "Print the result as JSON");
  verify->callback([flags, action] { *action = [flags] { return runVerify(*flags); }; });

  CLI::App* exporter = audit->add_subcommand("export", "Write entries as ECS NDJSON");
  addCommonOptions(exporter, flags.get());
  addFilterOptions(exporter, flags.get());
  exporter->add_option("-o,--output", flags->output, "The file to write (stdout when absent)");
  exporter->callback([flags, action] { *action = [flags] { return runExport(*flags); }; });

  CLI::App* list = audit->add_subcommand("list", "List entries");
  addCommonOptions(list, flags.get());
  addFilterOptions(list, flags.get());
  list->add_flag("--json", flags->json, "Print a JSON array");
  list->callback([flags, action] { *action = [flags] { return runList(*flags); }; });

  // Maintenance: manual entries by operators, and the driver of the crash test.
  CLI::App* append =
      audit->add_subcommand("append", "Append entries; prints each seq once durable");
  append->group("Maintenance");
  addCommonOptions(append, flags.get());
  append->add_option("--actor", flags->actor, "Who")->required();
  append->add_option("--actor-kind", flags->actor_kind, "person, controller or system")
      ->capture_default_str();
  append->add_option("--operation", flags->operation, "deploy, rollback, tune...")->required();
  append->add_option("--target", flags->target, "model/version, key id...");
  append->add_option("--reason", flags->reason, "Why");
  append->add_option("--version-before", flags->version_before, "Version before");
  append->add_option("--version-after", flags->version_after, "Version after");
  append->add_option("--outcome", flags->outcome, "success (default), failure or denied");
  append->add_option("--source-ip", flags->source_ip, "The operator's address");
  append->add_option("--details", flags->details, "A JSON object (integers only)");
  append->add_option("--ndjson", flags->ndjson, "Also write the live ECS NDJSON file");
  append->add_option("--count", flags->count, "Append this many copies")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  append->callback([flags, action] { *action = [flags] { return runAppend(*flags); }; });
}

}  // namespace dw::app
