#include "security/privacy_ledger.h"

#include <cmath>
#include <cstdio>

#include "security/dp_noise.h"

namespace dw::security {
namespace {

std::string formatEpsilon(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

std::string formatMicros(int64_t micros) {
  return formatEpsilon(static_cast<double>(micros) / kMicrosPerEpsilon);
}

double toEpsilon(int64_t micros) { return static_cast<double>(micros) / kMicrosPerEpsilon; }

// A budget in micro-epsilons: finite, >= 0, <= kMaxLedgerEpsilon, rounded to the nearest.
StatusOr<int64_t> budgetMicros(double budget) {
  if (!std::isfinite(budget) || budget < 0 || budget > kMaxLedgerEpsilon) {
    return invalidArgument("a privacy budget must be a finite number in [0, 1e9], got " +
                           formatEpsilon(budget));
  }
  return static_cast<int64_t>(std::llround(budget * kMicrosPerEpsilon));
}

}  // namespace

StatusOr<int64_t> PrivacyLedger::epsilonMicros(double epsilon) {
  if (!std::isfinite(epsilon) || epsilon <= 0) {
    return invalidArgument("epsilon must be a finite number > 0, got " + formatEpsilon(epsilon));
  }
  if (epsilon > kMaxLedgerEpsilon) {
    return invalidArgument("epsilon " + formatEpsilon(epsilon) + " is above 1e9");
  }
  const auto micros = static_cast<int64_t>(std::llround(epsilon * kMicrosPerEpsilon));
  if (micros == 0) {
    return invalidArgument("epsilon " + formatEpsilon(epsilon) +
                           " is below the ledger's resolution of 1e-6");
  }
  return micros;
}

StatusOr<PrivacyLedger> PrivacyLedger::open(store::Database& db, double default_budget) {
  DW_ASSIGN_OR_RETURN(const int64_t default_micros, budgetMicros(default_budget));
  DW_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS dp_releases ("
              " release TEXT PRIMARY KEY, budget_micros INTEGER NOT NULL,"
              " spent_micros INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
              "CREATE TABLE IF NOT EXISTS dp_spends ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, release TEXT NOT NULL,"
              " at_ms INTEGER NOT NULL, epsilon_micros INTEGER NOT NULL, purpose TEXT NOT NULL);"
              "CREATE INDEX IF NOT EXISTS dp_spends_release ON dp_spends (release, id)"));
  return PrivacyLedger(db, default_micros);
}

StatusOr<PrivacyLedger::State> PrivacyLedger::load(const std::string& release) {
  DW_ASSIGN_OR_RETURN(
      store::Statement s,
      db_->prepare("SELECT budget_micros, spent_micros FROM dp_releases WHERE release = ?"));
  s.bind(1, release);
  DW_ASSIGN_OR_RETURN(const bool row, s.step());
  if (!row) {
    return State{default_budget_micros_, 0, false};
  }
  return State{s.integer(0), s.integer(1), true};
}

Status PrivacyLedger::setBudget(const std::string& release, double budget) {
  if (release.empty()) {
    return invalidArgument("a release needs a name");
  }
  DW_ASSIGN_OR_RETURN(const int64_t micros, budgetMicros(budget));
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db_->prepare("INSERT INTO dp_releases (release, budget_micros,"
                                   " spent_micros, updated_ms) VALUES (?, ?, 0, 0)"
                                   " ON CONFLICT (release) DO UPDATE SET"
                                   " budget_micros = excluded.budget_micros"));
  s.bind(1, release).bind(2, micros);
  return s.run();
}

Status PrivacyLedger::spend(const std::string& release, double epsilon, const std::string& purpose,
                            int64_t now_ms) {
  if (release.empty()) {
    return invalidArgument("a release needs a name");
  }
  DW_ASSIGN_OR_RETURN(const int64_t micros, epsilonMicros(epsilon));
  // The check and the write in one write transaction: BEGIN IMMEDIATE holds SQLite's write lock
  // from the read of the budget to the commit, so no other connection spends the same remainder.
  // Any failure rolls back, so the connection never stays inside a half-done transaction.
  DW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status status = writeSpend(release, micros, purpose, now_ms);
  if (status.ok()) {
    status = db_->exec("COMMIT");
  }
  if (!status.ok()) {
    (void)db_->exec("ROLLBACK");
  }
  return status;
}

Status PrivacyLedger::writeSpend(const std::string& release, int64_t micros,
                                 const std::string& purpose, int64_t now_ms) {
  DW_ASSIGN_OR_RETURN(const State state, load(release));
  // spent and micros are each <= 1e15 (kMaxLedgerEpsilon micro-epsilons, and spent never passes
  // the budget), so the sum cannot overflow.
  if (state.spent_micros + micros > state.budget_micros) {
    return failedPrecondition("privacy budget of release '" + release + "' exhausted: spent " +
                              formatMicros(state.spent_micros) + " of " +
                              formatMicros(state.budget_micros) + ", asked " +
                              formatMicros(micros) + "; nothing may be released");
  }
  {
    DW_ASSIGN_OR_RETURN(store::Statement s,
                        db_->prepare("INSERT INTO dp_releases (release, budget_micros,"
                                     " spent_micros, updated_ms) VALUES (?, ?, ?, ?)"
                                     " ON CONFLICT (release) DO UPDATE SET"
                                     " spent_micros = excluded.spent_micros,"
                                     " updated_ms = excluded.updated_ms"));
    s.bind(1, release).bind(2, state.budget_micros).bind(3, state.spent_micros + micros);
    s.bind(4, now_ms);
    DW_RETURN_IF_ERROR(s.run());
  }
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db_->prepare("INSERT INTO dp_spends (release, at_ms, epsilon_micros,"
                                   " purpose) VALUES (?, ?, ?, ?)"));
  s.bind(1, release).bind(2, now_ms).bind(3, micros).bind(4, purpose);
  return s.run();
}

StatusOr<double> PrivacyLedger::spent(const std::string& release) {
  DW_ASSIGN_OR_RETURN(const State state, load(release));
  return toEpsilon(state.spent_micros);
}

StatusOr<double> PrivacyLedger::remaining(const std::string& release) {
  DW_ASSIGN_OR_RETURN(const State state, load(release));
  return state.budget_micros > state.spent_micros
             ? toEpsilon(state.budget_micros - state.spent_micros)
             : 0.0;
}

StatusOr<std::vector<PrivacyLedger::Row>> PrivacyLedger::releases() {
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db_->prepare("SELECT release, budget_micros, spent_micros, updated_ms"
                                   " FROM dp_releases ORDER BY release"));
  std::vector<Row> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(Row{s.text(0), toEpsilon(s.integer(1)), toEpsilon(s.integer(2)), s.integer(3)});
  }
}

StatusOr<std::vector<PrivacyLedger::Spend>> PrivacyLedger::spends(const std::string& release) {
  DW_ASSIGN_OR_RETURN(store::Statement s,
                      db_->prepare("SELECT at_ms, epsilon_micros, purpose FROM dp_spends"
                                   " WHERE release = ? ORDER BY id"));
  s.bind(1, release);
  std::vector<Spend> rows;
  for (;;) {
    DW_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
      return rows;
    }
    rows.push_back(Spend{s.integer(0), toEpsilon(s.integer(1)), s.text(2)});
  }
}

StatusOr<std::vector<int64_t>> releaseCounts(PrivacyLedger& ledger, const std::string& release,
                                             std::span<const int64_t> counts, double epsilon,
                                             const std::string& purpose, int64_t now_ms,
                                             int64_t sensitivity) {
  DW_ASSIGN_OR_RETURN(const int64_t micros, PrivacyLedger::epsilonMicros(epsilon));
  // The noise uses the charged (rounded) epsilon; addDiscreteLaplace rounds it down again to a
  // multiple of 2^-30, so the noise never spends more than the ledger records. (The double
  // micros / 1e6 is within an ulp of the exact value, and micros * 2^30 / 1e6 is either an integer,
  // when micros / 1e6 is a multiple of 2^-6 and exact, or at least 1/15625 from one, so the floor
  // is that of the exact value.) Drawing first means a bad parameter is refused before anything
  // is charged.
  DW_ASSIGN_OR_RETURN(std::vector<int64_t> noisy,
                      addDiscreteLaplace(counts, toEpsilon(micros), sensitivity));
  DW_RETURN_IF_ERROR(ledger.spend(release, toEpsilon(micros), purpose, now_ms));
  return noisy;
}

}  // namespace dw::security
