// The privacy budget ledger (R7): how much epsilon each release of noisy aggregates has spent,
// kept in SQLite so the accounting survives restarts. A release ("report/2026-W48",
// "baseline/fortune") has a total budget; every spend is recorded with its time, epsilon and
// purpose, and a spend that would take the release past its budget is refused. Composition is
// basic sequential composition: the epsilons of a release add up.
//
// Epsilon is accounted in integer micro-epsilons (kMicrosPerEpsilon), so sums are exact and no
// floating-point tolerance is needed: a spend and a budget are each rounded to the nearest
// micro-epsilon (a spend that rounds to 0 is refused), so 0.1 + 0.2 + 0.7 spends exactly 1.0.
// releaseCounts() calibrates its noise to the rounded epsilon, so what is charged is never less
// than what the noise spends.
//
// Durability: spend() commits its transaction (WAL, synchronous=FULL) before it returns OK, and
// releaseCounts() returns noisy data only after that: a crash after a release cannot forget the
// spend (RPO 0 for the ledger). BEGIN IMMEDIATE takes SQLite's write lock before the budget is
// read, so two processes sharing the file cannot both pass the check on the same remainder.
//
// Thread contract: like the Database it uses, one thread at a time (the control thread).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/database.h"

namespace dw::security {

inline constexpr int64_t kMicrosPerEpsilon = 1'000'000;
// Largest budget and largest single spend accepted, in epsilon (keeps micro sums far inside int64).
inline constexpr double kMaxLedgerEpsilon = 1e9;

class PrivacyLedger {
 public:
  // Creates the tables when needed. `default_budget` is the budget of a release that has none
  // set; it must be finite and >= 0. The ledger keeps a reference to `db`, which must outlive it.
  static StatusOr<PrivacyLedger> open(store::Database& db, double default_budget);

  // Sets the total budget of `release` (finite, >= 0, <= kMaxLedgerEpsilon). Lowering it below
  // what was already spent is allowed: later spends are refused.
  Status setBudget(const std::string& release, double budget);

  // Records a spend of `epsilon` on `release`, durably, or refuses it:
  //   invalidArgument: epsilon <= 0, NaN, infinite, above kMaxLedgerEpsilon, or below half a
  //     micro-epsilon; an empty release name.
  //   failedPrecondition: spent + epsilon would exceed the budget (the message names the release,
  //     the amount spent, the amount asked and the budget).
  // The caller may release data noised with `epsilon` only after this returns OK.
  Status spend(const std::string& release, double epsilon, const std::string& purpose,
               int64_t now_ms);

  // Epsilon spent so far (0 for an unknown release).
  StatusOr<double> spent(const std::string& release);
  // Budget minus spent, never below 0 (the default budget for an unknown release).
  StatusOr<double> remaining(const std::string& release);

  struct Row {
    std::string release;
    double budget = 0;
    double spent = 0;
    int64_t updated_ms = 0;
  };
  // Every release that has a budget set or a spend, ordered by name.
  StatusOr<std::vector<Row>> releases();

  struct Spend {
    int64_t at_ms = 0;
    double epsilon = 0;
    std::string purpose;
  };
  // The spends of `release`, oldest first.
  StatusOr<std::vector<Spend>> spends(const std::string& release);

  // Epsilon rounded to the micro-epsilons the ledger charges, after the checks of spend().
  static StatusOr<int64_t> epsilonMicros(double epsilon);

 private:
  PrivacyLedger(store::Database& db, int64_t default_budget_micros)
      : db_(&db), default_budget_micros_(default_budget_micros) {}
  struct State {
    int64_t budget_micros = 0;
    int64_t spent_micros = 0;
    bool exists = false;
  };
  StatusOr<State> load(const std::string& release);
  // The writes of spend(), inside its transaction.
  Status writeSpend(const std::string& release, int64_t micros, const std::string& purpose,
                    int64_t now_ms);

  store::Database* db_;
  int64_t default_budget_micros_;
};

// Spends `epsilon` from `release` and returns the counts with discrete Laplace noise of scale
// sensitivity/epsilon (security/dp_noise.h), where epsilon is the micro-rounded value the ledger
// charged. The noise is drawn first and returned only after the spend is committed: when the
// spend is refused (budget exhausted, bad epsilon) or fails, nothing is released, never the raw
// counts.
StatusOr<std::vector<int64_t>> releaseCounts(PrivacyLedger& ledger, const std::string& release,
                                             std::span<const int64_t> counts, double epsilon,
                                             const std::string& purpose, int64_t now_ms,
                                             int64_t sensitivity = 1);

}  // namespace dw::security
