#include "store/database.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace dw::store {
namespace {

// A fresh directory under the system temp directory, removed at the end of the test.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_database_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> opened(const std::filesystem::path& path) {
    StatusOr<std::unique_ptr<Database>> db = Database::open(path.string());
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(DatabaseTest, OpenCreatesTheFileAndItsDirectories) {
  const auto path = dir_ / "a" / "b" / "c" / "state.db";
  auto db = opened(path);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->path(), path.string());
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "a" / "b" / "c"));
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(DatabaseTest, OpenInTheCurrentDirectoryNeedsNoParent) {
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  {
    auto db = opened("plain.db");
    EXPECT_NE(db, nullptr);
  }
  std::filesystem::current_path(previous);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "plain.db"));
}

TEST_F(DatabaseTest, OpenFailsWhenTheDirectoryCannotBeCreated) {
  std::ofstream(dir_ / "a-file") << "not a directory";
  StatusOr<std::unique_ptr<Database>> db = Database::open((dir_ / "a-file" / "x.db").string());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

TEST_F(DatabaseTest, OpenFailsOnAFileThatIsNotADatabase) {
  std::ofstream(dir_ / "garbage.db") << std::string(4096, 'x');
  StatusOr<std::unique_ptr<Database>> db = Database::open((dir_ / "garbage.db").string());
  EXPECT_FALSE(db.ok());
}

TEST_F(DatabaseTest, JournalModeIsWal) {
  auto db = opened(dir_ / "wal.db");
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> statement = db->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(statement.ok()) << statement.status().toString();
  StatusOr<bool> row = statement->step();
  ASSERT_TRUE(row.ok()) << row.status().toString();
  ASSERT_TRUE(*row);
  EXPECT_EQ(statement->text(0), "wal");
}

TEST_F(DatabaseTest, SynchronousIsFull) {
  auto db = opened(dir_ / "sync.db");
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> statement = db->prepare("PRAGMA synchronous");
  ASSERT_TRUE(statement.ok()) << statement.status().toString();
  StatusOr<bool> row = statement->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(statement->integer(0), 2);  // FULL.
}

TEST_F(DatabaseTest, ExecPrepareBindStep) {
  auto db = opened(dir_ / "t.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->exec("CREATE TABLE t (name TEXT, n INTEGER, x REAL)").ok());
  {
    StatusOr<Statement> insert = db->prepare("INSERT INTO t (name, n, x) VALUES (?, ?, ?)");
    ASSERT_TRUE(insert.ok()) << insert.status().toString();
    insert->bind(1, std::string_view("alpha")).bind(2, int64_t{42}).bind(3, 2.5);
    StatusOr<bool> row = insert->step();
    ASSERT_TRUE(row.ok()) << row.status().toString();
    EXPECT_FALSE(*row);  // No rows from an INSERT.
  }
  {
    StatusOr<Statement> insert = db->prepare("INSERT INTO t (name, n, x) VALUES (?, ?, ?)");
    ASSERT_TRUE(insert.ok());
    // Text with an embedded NUL and non-ASCII bytes survives; large integers too.
    const std::string name("be\0ta \xe4\xb8\xad", 9);
    insert->bind(1, name).bind(2, int64_t{1} << 40).bind(3, -0.125);
    EXPECT_TRUE(insert->run().ok());
  }
  StatusOr<Statement> select = db->prepare("SELECT name, n, x FROM t ORDER BY n");
  ASSERT_TRUE(select.ok()) << select.status().toString();
  StatusOr<bool> row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->text(0), "alpha");
  EXPECT_EQ(select->integer(1), 42);
  EXPECT_EQ(select->real(2), 2.5);
  row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->text(0), std::string("be\0ta \xe4\xb8\xad", 9));
  EXPECT_EQ(select->integer(1), int64_t{1} << 40);
  EXPECT_EQ(select->real(2), -0.125);
  row = select->step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST_F(DatabaseTest, NullTextReadsAsEmpty) {
  auto db = opened(dir_ / "null.db");
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> select = db->prepare("SELECT NULL");
  ASSERT_TRUE(select.ok());
  StatusOr<bool> row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->text(0), "");
  EXPECT_EQ(select->integer(0), 0);
}

TEST_F(DatabaseTest, BadSqlFails) {
  auto db = opened(dir_ / "bad.db");
  ASSERT_NE(db, nullptr);
  Status status = db->exec("CREATE TABLEX nonsense");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("syntax"), std::string::npos) << status.message();
  StatusOr<Statement> statement = db->prepare("SELECT * FROM no_such_table");
  ASSERT_FALSE(statement.ok());
  EXPECT_NE(statement.status().message().find("no_such_table"), std::string::npos)
      << statement.status().message();
}

TEST_F(DatabaseTest, ConstraintViolationFailsTheStep) {
  auto db = opened(dir_ / "unique.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->exec("CREATE TABLE u (k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE(db->exec("INSERT INTO u VALUES ('a')").ok());
  StatusOr<Statement> insert = db->prepare("INSERT INTO u VALUES (?)");
  ASSERT_TRUE(insert.ok());
  insert->bind(1, std::string_view("a"));
  StatusOr<bool> row = insert->step();
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("UNIQUE"), std::string::npos) << row.status().message();
}

TEST_F(DatabaseTest, BindingAnOutOfRangeParameterFailsTheStep) {
  auto db = opened(dir_ / "bind.db");
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> select = db->prepare("SELECT ?");
  ASSERT_TRUE(select.ok());
  select->bind(5, int64_t{1});
  StatusOr<bool> row = select->step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kInternal);
}

TEST_F(DatabaseTest, AStatementCanBeMoved) {
  auto db = opened(dir_ / "move.db");
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> prepared = db->prepare("SELECT 7");
  ASSERT_TRUE(prepared.ok());
  Statement moved(std::move(prepared).value());
  StatusOr<bool> row = moved.step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(moved.integer(0), 7);
}

TEST_F(DatabaseTest, RowsSurviveReopening) {
  const auto path = dir_ / "persist.db";
  {
    auto db = opened(path);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->exec("CREATE TABLE kv (k TEXT, v INTEGER)").ok());
    ASSERT_TRUE(db->exec("INSERT INTO kv VALUES ('x', 1), ('y', 2)").ok());
  }
  auto db = opened(path);
  ASSERT_NE(db, nullptr);
  StatusOr<Statement> select = db->prepare("SELECT count(*), sum(v) FROM kv");
  ASSERT_TRUE(select.ok()) << select.status().toString();
  StatusOr<bool> row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->integer(0), 2);
  EXPECT_EQ(select->integer(1), 3);
}

}  // namespace
}  // namespace dw::store
