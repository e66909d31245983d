// dw::Status and dw::StatusOr<T>: the error model of the whole project.
//
// Shaped like absl::Status: a canonical code plus a message. Codes map onto HTTP statuses (for
// the API and admin listeners) and onto audit outcomes. Nothing in src/ throws; libraries that
// throw are wrapped in adapters that return a Status instead.
//
// Thread contract: values, no shared state; safe to copy across threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace dw {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kUnknown,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kDataLoss,
  kUnauthenticated,
};

// The canonical name of a code, e.g. "INVALID_ARGUMENT".
std::string_view statusCodeName(StatusCode code);

// The HTTP status a code maps onto when it reaches a client (400 for kInvalidArgument...).
int httpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string toString() const;

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status withContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status okStatus() { return Status(); }
Status invalidArgument(std::string message);
Status notFound(std::string message);
Status alreadyExists(std::string message);
Status failedPrecondition(std::string message);
Status internalError(std::string message);
Status unavailable(std::string message);
Status resourceExhausted(std::string message);
Status outOfRange(std::string message);
Status permissionDenied(std::string message);
Status unauthenticated(std::string message);
Status deadlineExceeded(std::string message);
Status dataLoss(std::string message);
Status aborted(std::string message);
Status unimplemented(std::string message);

// Holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Requires !status.ok(): an OK StatusOr must carry a value.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) {
      status_ = internalError("StatusOr constructed from an OK status without a value");
    }
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // Require ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace dw

#define DW_STATUS_CONCAT_INNER(a, b) a##b
#define DW_STATUS_CONCAT(a, b) DW_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define DW_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::dw::Status dw_status_tmp_ = (expr); \
    if (!dw_status_tmp_.ok()) {           \
      return dw_status_tmp_;              \
    }                                     \
  } while (false)

// `DW_ASSIGN_OR_RETURN(auto x, f())`: assigns the value of a StatusOr or returns its Status.
#define DW_ASSIGN_OR_RETURN(lhs, expr) \
  DW_ASSIGN_OR_RETURN_IMPL(DW_STATUS_CONCAT(dw_statusor_, __LINE__), lhs, expr)
#define DW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) {                               \
    return std::move(tmp).status();              \
  }                                              \
  lhs = std::move(tmp).value()
