#include "store/state_store.h"

#include <chrono>

namespace dw::store {
namespace {

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(Database& db) : db_(db) {}

  Status put(const std::string& kind, const std::string& key,
             const std::string& document) override {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    DW_ASSIGN_OR_RETURN(Statement s,
                        db_.prepare("INSERT INTO control_state (kind, key, document, updated_ms)"
                                    " VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET"
                                    " document = excluded.document,"
                                    " updated_ms = excluded.updated_ms"));
    s.bind(1, kind).bind(2, key).bind(3, document).bind(4, now_ms);
    return s.run();
  }

  StatusOr<std::map<std::string, std::string>> list(const std::string& kind) override {
    DW_ASSIGN_OR_RETURN(Statement s,
                        db_.prepare("SELECT key, document FROM control_state WHERE kind = ?"));
    s.bind(1, kind);
    std::map<std::string, std::string> out;
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) {
        break;
      }
      out.emplace(s.text(0), s.text(1));
    }
    return out;
  }

  std::string_view backend() const override { return "sqlite"; }

 private:
  Database& db_;
};

}  // namespace

StatusOr<std::unique_ptr<StateStore>> openSqliteStateStore(Database& db) {
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS control_state ("
              " kind TEXT NOT NULL, key TEXT NOT NULL, document TEXT NOT NULL,"
              " updated_ms INTEGER NOT NULL, PRIMARY KEY (kind, key))"));
  return std::unique_ptr<StateStore>(std::make_unique<SqliteStateStore>(db));
}

}  // namespace dw::store
