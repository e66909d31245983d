#include "security/audit_log.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/database.h"

namespace dw::security {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A fresh directory per test, a simulated clock, and helpers to tamper with the file directly.
class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_audit_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "audit.db").string();
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  AuditLog::Options options(bool read_only = false) {
    AuditLog::Options o;
    o.path = path_;
    o.ndjson_path = read_only ? "" : (dir_ / "audit.ndjson").string();
    o.read_only = read_only;
    o.now_us = [this] { return now_us_ += 1500; };
    return o;
  }

  std::unique_ptr<AuditLog> openLog(bool read_only = false) {
    auto log = AuditLog::open(options(read_only));
    EXPECT_TRUE(log.ok()) << log.status().toString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static AuditRecord record(const std::string& actor, const std::string& operation,
                            const std::string& target = "chat/v2") {
    AuditRecord r;
    r.actor = actor;
    r.operation = operation;
    r.target = target;
    r.version_before = "v1";
    r.version_after = "v2";
    r.reason = "canary passed";
    r.rbac_reason = "role operator allows " + operation;
    r.source_ip = "10.0.3.7";
    r.details_json = R"({"weight": 10, "replicas": 2})";
    return r;
  }

  // Opens the log, appends n entries (operations deploy, tune, rollback... in turn), closes it.
  std::vector<AuditEntry> fill(int n) {
    static const char* kOps[] = {"deploy", "tune", "rollback", "scale", "promote"};
    auto log = openLog();
    std::vector<AuditEntry> entries;
    for (int i = 0; i < n; ++i) {
      auto entry = log->append(record(i % 2 == 0 ? "alice" : "bob", kOps[i % 5]));
      EXPECT_TRUE(entry.ok()) << entry.status().toString();
      entries.push_back(*entry);
    }
    return entries;
  }

  void tamper(const std::string& sql) {
    auto db = store::Database::open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec(sql).ok()) << sql;
  }

  VerifyResult verifyNow() {
    auto log = openLog(/*read_only=*/true);
    if (log == nullptr) {
      return {};
    }
    auto result = log->verify();
    EXPECT_TRUE(result.ok()) << result.status().toString();
    return result.ok() ? *result : VerifyResult{};
  }

  std::filesystem::path dir_;
  std::string path_;
  int64_t now_us_ = 1'787'000'000'000'000;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsAChainThatVerifies) {
  const auto entries = fill(5);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].prev_hash, std::string(64, '0'));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(entries[i].audit_id.size(), 32u);
    if (i > 0) {
      EXPECT_EQ(entries[i].prev_hash, entries[i - 1].entry_hash);
      EXPECT_NE(entries[i].audit_id, entries[i - 1].audit_id);
    }
  }
  // entry_hash_1 = SHA-256(0x01 || 0^32 || leaf_1), leaf_1 = SHA-256(0x00 || canonical).
  auto canonical = canonicalBytes(entries[0]);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(toHex(leafHash(*canonical)), entries[0].leaf_hash);
  Digest zero{};
  Digest leaf = leafHash(*canonical);
  EXPECT_EQ(toHex(sha256({std::string_view("\x01", 1), asBytes(zero), asBytes(leaf)})),
            entries[0].entry_hash);
  // Sorted keys, no whitespace, integers as integers.
  EXPECT_EQ(canonical->rfind(R"({"actor":"alice","actor_kind":"person","audit_id":")", 0), 0u);
  EXPECT_NE(canonical->find(R"("details":{"replicas":2,"weight":10})"), std::string::npos);
  EXPECT_NE(canonical->find(R"("seq":1,)"), std::string::npos);
  EXPECT_EQ(entries[0].time_iso, "2026-08-17T20:53:20.001500Z");
  EXPECT_EQ(entries[0].time_ms, 1'787'000'000'001);

  const VerifyResult result = verifyNow();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(result.count, 5);
  EXPECT_EQ(result.head_hash, entries.back().entry_hash);
  EXPECT_EQ(result.anchor_seq, 5);
  auto anchor = nlohmann::json::parse(readFile(path_ + ".head"));
  EXPECT_EQ(anchor["seq"], 5);
  EXPECT_EQ(anchor["entry_hash"], entries.back().entry_hash);
}

TEST_F(AuditLogTest, ReopeningContinuesTheChain) {
  const auto first = fill(3);
  const auto second = fill(2);
  EXPECT_EQ(second[0].seq, 4);
  EXPECT_EQ(second[0].prev_hash, first.back().entry_hash);
  const VerifyResult result = verifyNow();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(result.count, 5);
}

TEST_F(AuditLogTest, ListFiltersByActorOperationOutcomeTimeAndSeq) {
  const auto entries = fill(6);
  auto log = openLog(true);
  AuditFilter by_actor;
  by_actor.actor = "bob";
  EXPECT_EQ(log->list(by_actor)->size(), 3u);
  AuditFilter by_op;
  by_op.operation = "tune";
  ASSERT_EQ(log->list(by_op)->size(), 1u);
  EXPECT_EQ(log->list(by_op)->at(0).seq, 2);
  AuditFilter after;
  after.after_seq = 4;
  after.limit = 1;
  ASSERT_EQ(log->list(after)->size(), 1u);
  EXPECT_EQ(log->list(after)->at(0).seq, 5);
  AuditFilter time;
  time.from_ms = entries[1].time_ms;
  time.to_ms = entries[3].time_ms;
  EXPECT_EQ(log->list(time)->size(), 2u);
  AuditFilter failed;
  failed.outcome = AuditOutcome::kFailure;
  EXPECT_TRUE(log->list(failed)->empty());
  const auto all = log->list(AuditFilter{});
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ(all->at(2).record.details_json, R"({"replicas":2,"weight":10})");
  EXPECT_EQ(all->at(2).entry_hash, entries[2].entry_hash);
}

TEST_F(AuditLogTest, ImpactIsItsOwnEntryLinkedToTheOperation) {
  auto log = openLog();
  auto deploy = log->append(record("alice", "deploy"));
  ASSERT_TRUE(deploy.ok());
  AuditRecord impact = record("controller", "impact");
  impact.actor_kind = ActorKind::kController;
  impact.refers_to = deploy->audit_id;
  impact.impact = ImpactAssessment{
      300000, {{"p99_latency_us", 820000, 610000}, {"error_rate_ppm", 1200, 300}}, "improved"};
  auto assessed = log->append(impact);
  ASSERT_TRUE(assessed.ok()) << assessed.status().toString();
  EXPECT_EQ(assessed->seq, 2);
  impact.refers_to = "00000000000000000000000000000000";
  EXPECT_EQ(log->append(impact).status().code(), StatusCode::kInvalidArgument);
  AuditRecord no_assessment = record("controller", "impact");
  no_assessment.refers_to = deploy->audit_id;
  EXPECT_EQ(log->append(no_assessment).status().code(), StatusCode::kInvalidArgument);
  AuditFilter filter;
  filter.operation = "impact";
  auto listed = log->list(filter);
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE(listed->at(0).record.impact.has_value());
  EXPECT_EQ(listed->at(0).record.impact->metrics[1].after, 300);
  EXPECT_EQ(listed->at(0).record.refers_to, deploy->audit_id);
  // The deploy entry itself is untouched (append-only).
  EXPECT_EQ(log->list(AuditFilter{})->at(0).entry_hash, deploy->entry_hash);
  EXPECT_TRUE(log->verify()->ok());
}

TEST_F(AuditLogTest, RejectsBadRecordsWithoutWritingAnything) {
  auto log = openLog();
  AuditRecord floats = record("alice", "tune");
  floats.details_json = R"({"temperature": 0.7})";
  EXPECT_EQ(log->append(floats).status().code(), StatusCode::kInvalidArgument);
  AuditRecord ip = record("alice", "tune");
  ip.source_ip = "not-an-ip";
  EXPECT_EQ(log->append(ip).status().code(), StatusCode::kInvalidArgument);
  AuditRecord op = record("alice", "Deploy; DROP");
  EXPECT_EQ(log->append(op).status().code(), StatusCode::kInvalidArgument);
  AuditRecord no_actor = record("", "deploy");
  EXPECT_EQ(log->append(no_actor).status().code(), StatusCode::kInvalidArgument);
  AuditRecord utf8 = record("al\xff", "deploy");
  EXPECT_EQ(log->append(utf8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(log->list(AuditFilter{})->empty());
  auto ok = log->append(record("alice", "deploy"));
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->seq, 1);
}

TEST_F(AuditLogTest, VerifyNamesAChangedField) {
  fill(6);
  tamper("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kChanged);
  EXPECT_EQ(result.bad_seq, 3);
  EXPECT_EQ(result.count, 2);
}

TEST_F(AuditLogTest, VerifyNamesAChangedDetailsObject) {
  fill(6);
  tamper(R"(UPDATE audit_entries SET details = '{"replicas":2,"weight":90}' WHERE seq = 5)");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kChanged);
  EXPECT_EQ(result.bad_seq, 5);
}

TEST_F(AuditLogTest, VerifyNamesADeletedEntry) {
  fill(6);
  tamper("DELETE FROM audit_entries WHERE seq = 4");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kDeleted);
  EXPECT_EQ(result.bad_seq, 4);
}

TEST_F(AuditLogTest, VerifyNamesTheFirstEntryDeleted) {
  fill(3);
  tamper("DELETE FROM audit_entries WHERE seq = 1");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kDeleted);
  EXPECT_EQ(result.bad_seq, 1);
}

TEST_F(AuditLogTest, VerifyNamesReorderedEntries) {
  fill(6);
  tamper(
      "UPDATE audit_entries SET seq = -1 WHERE seq = 2;"
      "UPDATE audit_entries SET seq = 2 WHERE seq = 5;"
      "UPDATE audit_entries SET seq = 5 WHERE seq = -1");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kReordered);
  EXPECT_EQ(result.bad_seq, 2);
}

TEST_F(AuditLogTest, VerifyNamesATruncatedTail) {
  fill(6);
  tamper("DELETE FROM audit_entries WHERE seq > 3");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kTruncated);
  EXPECT_EQ(result.bad_seq, 4);
  EXPECT_EQ(result.anchor_seq, 6);
  // A writer refuses to open it: appending would hide the cut.
  auto log = AuditLog::open(options());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, VerifyNamesChangedHashColumns) {
  fill(6);
  tamper("UPDATE audit_entries SET entry_hash = '" + std::string(64, 'a') + "' WHERE seq = 4");
  VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kChanged);
  EXPECT_EQ(result.bad_seq, 4);

  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  fill(6);
  tamper("UPDATE audit_entries SET leaf_hash = '" + std::string(64, 'b') + "' WHERE seq = 2");
  result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kChanged);
  EXPECT_EQ(result.bad_seq, 2);

  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  fill(6);
  tamper("UPDATE audit_entries SET prev_hash = '" + std::string(64, 'c') + "' WHERE seq = 6");
  result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kChanged);
  EXPECT_EQ(result.bad_seq, 6);
}

TEST_F(AuditLogTest, VerifyCatchesAConsistentRewriteThroughTheAnchor) {
  const auto entries = fill(4);
  // An attacker with the database but not the anchor rewrites the newest entry and recomputes
  // its hashes: the chain is consistent again, only the anchor disagrees.
  AuditEntry forged = entries[3];
  forged.record.actor = "mallory";
  auto canonical = canonicalBytes(forged);
  ASSERT_TRUE(canonical.ok());
  const Digest leaf = leafHash(*canonical);
  Digest prev{};
  ASSERT_TRUE(fromHex(forged.prev_hash, &prev));
  const std::string entry_hash =
      toHex(sha256({std::string_view("\x01", 1), asBytes(prev), asBytes(leaf)}));
  tamper("UPDATE audit_entries SET actor = 'mallory', leaf_hash = '" + toHex(leaf) +
         "', entry_hash = '" + entry_hash + "' WHERE seq = 4");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kAnchor);
  EXPECT_EQ(result.bad_seq, 4);
  EXPECT_EQ(result.count, 4);
}

TEST_F(AuditLogTest, OpenMovesAnAnchorLeftBehindByACrash) {
  const auto entries = fill(3);
  // The state a crash between the commit of entry 3 and the anchor's rename leaves.
  std::ofstream(path_ + ".head", std::ios::trunc)
      << R"({"entry_hash":")" << entries[1].entry_hash << R"(","seq":2})"
      << "\n";
  EXPECT_TRUE(verifyNow().ok());
  auto log = openLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(nlohmann::json::parse(readFile(path_ + ".head"))["seq"], 3);
  auto next = log->append(record("alice", "deploy"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 4);
}

TEST_F(AuditLogTest, AMissingAnchorIsReported) {
  fill(3);
  std::filesystem::remove(path_ + ".head");
  const VerifyResult result = verifyNow();
  EXPECT_EQ(result.kind, TamperKind::kAnchor);
  EXPECT_EQ(AuditLog::open(options()).status().code(), StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, AppendFailsCleanlyWhenTheDirectoryIsGone) {
  path_ = (dir_ / "sub" / "audit.db").string();
  auto log = openLog();
  ASSERT_TRUE(log->append(record("alice", "deploy")).ok());
  std::filesystem::remove_all(dir_ / "sub");
  auto entry = log->append(record("alice", "rollback"));
  EXPECT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "sub"));
}

TEST_F(AuditLogTest, AppendFailsCleanlyWhenTheDatabaseIsReadOnly) {
  // Root ignores file modes, so the child drops to nobody first; it reports by exit status.
  const auto sub = dir_ / "ro";
  std::filesystem::create_directories(sub);
  ::chmod(dir_.c_str(), 0755);
  ::chmod(sub.c_str(), 0777);
  path_ = (sub / "audit.db").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(10);
    }
    AuditLog::Options o = options();
    o.ndjson_path = (sub / "audit.ndjson").string();
    {
      auto log = AuditLog::open(o);
      if (!log.ok()) {
        std::fprintf(stderr, "open: %s\n", log.status().toString().c_str());
        ::_exit(11);
      }
      for (const char* op : {"deploy", "tune"}) {
        auto entry = (*log)->append(record("alice", op));
        if (!entry.ok()) {
          std::fprintf(stderr, "append: %s\n", entry.status().toString().c_str());
          ::_exit(11);
        }
      }
    }
    ::chmod(path_.c_str(), 0444);
    ::chmod((path_ + ".head").c_str(), 0444);
    ::chmod(sub.c_str(), 0555);
    auto log = AuditLog::open(o);
    if (log.ok()) {
      auto entry = (*log)->append(record("alice", "rollback"));
      ::_exit(entry.ok() ? 12 : 0);
    }
    ::_exit(0);  // Refused at open: also an error, nothing written.
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::chmod(sub.c_str(), 0755);
  ::chmod(path_.c_str(), 0644);
  const VerifyResult result = verifyNow();
  EXPECT_TRUE(result.ok()) << result.detail;
  EXPECT_EQ(result.count, 2);
}

TEST_F(AuditLogTest, WritesOneEcsLinePerEntryAndRefillsAfterACrash) {
  fill(4);
  const auto ndjson = dir_ / "audit.ndjson";
  std::string text = readFile(ndjson);
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  // A crash lost line 4 and left half of line 3.
  const size_t third = text.find('\n', text.find('\n') + 1) + 1;
  std::ofstream(ndjson, std::ios::trunc) << text.substr(0, third + 20);
  fill(1);
  text = readFile(ndjson);
  std::istringstream lines(text);
  std::string line;
  int64_t expected = 1;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(json.is_object()) << line;
    EXPECT_EQ(json["event"]["sequence"], expected);
    ++expected;
  }
  EXPECT_EQ(expected, 6);
}

TEST_F(AuditLogTest, ConcurrentAppendsKeepOneChain) {
  auto log = openLog();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(log->append(record("user" + std::to_string(t), "tune")).ok());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto result = log->verify();
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->ok()) << result->detail;
  EXPECT_EQ(result->count, 40);
}

TEST_F(AuditLogTest, ASecondWriterIsRefused) {
  auto log = openLog();
  EXPECT_EQ(AuditLog::open(options()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(AuditLog::open(options(true)).ok());
}

TEST(AuditMerkleTest, MatchesRfc6962Vectors) {
  EXPECT_EQ(toHex(merkleTreeHead({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The certificate-transparency test leaves: "", 00, 10, 2021, 3031, 40414243,
  // 5051525354555657, 606162636465666768696a6b6c6d6e6f.
  const std::vector<std::string> inputs = {
      "",
      "\x00",
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  std::vector<Digest> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    leaves.push_back(leafHash(i == 1 ? std::string_view("\x00", 1) : std::string_view(inputs[i])));
  }
  EXPECT_EQ(toHex(leaves[0]), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(toHex(merkleTreeHead({leaves.begin(), leaves.begin() + 2})),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  EXPECT_EQ(toHex(merkleTreeHead({leaves.begin(), leaves.begin() + 3})),
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77");
  EXPECT_EQ(toHex(merkleTreeHead(leaves)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

TEST(AuditTimeTest, FormatsAndParsesIsoTimes) {
  EXPECT_EQ(formatIsoMicros(1'787'000'000'123'456), "2026-08-17T20:53:20.123456Z");
  EXPECT_EQ(*parseIsoMillis("2026-08-17T20:53:20.123456Z"), 1'787'000'000'123);
  EXPECT_EQ(*parseIsoMillis("2026-08-17T20:53:20Z"), 1'787'000'000'000);
  EXPECT_EQ(*parseIsoMillis("2026-08-17T22:53:20+02:00"), 1'787'000'000'000);
  EXPECT_EQ(*parseIsoMillis("1970-01-02"), 86'400'000);
  EXPECT_FALSE(parseIsoMillis("yesterday").ok());
  EXPECT_FALSE(parseIsoMillis("2026-13-01").ok());
  EXPECT_FALSE(parseIsoMillis("2026-08-17T21:33:20Zjunk").ok());
}

}  // namespace
}  // namespace dw::security
