#include "base/status.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace dw {
namespace {

Status failIfNegative(int x) { return x < 0 ? invalidArgument("negative") : okStatus(); }

// Counts how often it gets past DW_RETURN_IF_ERROR.
Status checkThenCount(int x, int* passed) {
  DW_RETURN_IF_ERROR(failIfNegative(x));
  ++*passed;
  return okStatus();
}

StatusOr<int> half(int x) {
  if (x % 2 != 0) {
    return invalidArgument("odd");
  }
  return x / 2;
}

StatusOr<int> quarter(int x) {
  DW_ASSIGN_OR_RETURN(int h, half(x));
  DW_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

StatusOr<int> quarterIntoExisting(int x) {
  int value = -1;
  DW_ASSIGN_OR_RETURN(value, half(x));
  DW_ASSIGN_OR_RETURN(value, half(value));
  return value;
}

TEST(StatusTest, DefaultIsOkWithEmptyMessage) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_TRUE(okStatus().ok());
}

TEST(StatusTest, HelpersSetTheirCanonicalCode) {
  EXPECT_EQ(invalidArgument("m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(notFound("m").code(), StatusCode::kNotFound);
  EXPECT_EQ(alreadyExists("m").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(failedPrecondition("m").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(internalError("m").code(), StatusCode::kInternal);
  EXPECT_EQ(unavailable("m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(resourceExhausted("m").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(outOfRange("m").code(), StatusCode::kOutOfRange);
  EXPECT_EQ(permissionDenied("m").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(unauthenticated("m").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(deadlineExceeded("m").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(dataLoss("m").code(), StatusCode::kDataLoss);
  EXPECT_EQ(aborted("m").code(), StatusCode::kAborted);
  EXPECT_EQ(unimplemented("m").code(), StatusCode::kUnimplemented);
  Status status = notFound("no such file");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "no such file");
}

TEST(StatusTest, ToStringIsCodeNameColonMessageOrOk) {
  EXPECT_EQ(okStatus().toString(), "OK");
  EXPECT_EQ(invalidArgument("bad flag").toString(), "INVALID_ARGUMENT: bad flag");
  EXPECT_EQ(notFound("x").toString(), "NOT_FOUND: x");
  EXPECT_EQ(resourceExhausted("queue full").toString(), "RESOURCE_EXHAUSTED: queue full");
}

TEST(StatusTest, CodeNamesAreCanonical) {
  EXPECT_EQ(statusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(statusCodeName(StatusCode::kCancelled), "CANCELLED");
  EXPECT_EQ(statusCodeName(StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(statusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(statusCodeName(StatusCode::kDataLoss), "DATA_LOSS");
  EXPECT_EQ(statusCodeName(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status status = notFound("file missing").withContext("loading corpus");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "loading corpus: file missing");
  EXPECT_EQ(status.toString(), "NOT_FOUND: loading corpus: file missing");
}

TEST(StatusTest, WithContextOnOkStaysOkWithoutMessage) {
  Status status = okStatus().withContext("ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(invalidArgument("a"), invalidArgument("a"));
  EXPECT_FALSE(invalidArgument("a") == invalidArgument("b"));
  EXPECT_FALSE(invalidArgument("a") == notFound("a"));
  EXPECT_EQ(okStatus(), Status());
}

TEST(StatusTest, HttpStatusForMapsEveryCode) {
  EXPECT_EQ(httpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(httpStatusFor(StatusCode::kCancelled), 499);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnknown), 500);
  EXPECT_EQ(httpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(httpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(httpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(httpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(httpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(httpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(httpStatusFor(StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(httpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(httpStatusFor(StatusCode::kOutOfRange), 400);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(httpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(httpStatusFor(StatusCode::kDataLoss), 500);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnauthenticated), 401);
}

TEST(StatusOrTest, HoldsValue) {
  StatusOr<std::string> result = std::string("hello");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(result.value(), "hello");
  EXPECT_EQ(*result, "hello");
  EXPECT_EQ(result->size(), 5u);
  result.value() += "!";
  EXPECT_EQ(*result, "hello!");
}

TEST(StatusOrTest, HoldsError) {
  StatusOr<int> result = notFound("gone");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status(), notFound("gone"));
}

TEST(StatusOrTest, OkStatusWithoutValueBecomesInternalError) {
  StatusOr<int> result = okStatus();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
}

TEST(StatusOrTest, MovesOutMoveOnlyValue) {
  StatusOr<std::unique_ptr<int>> result = std::make_unique<int>(7);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> value = std::move(result).value();
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 7);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsEarlyOnlyOnError) {
  int passed = 0;
  EXPECT_TRUE(checkThenCount(1, &passed).ok());
  EXPECT_EQ(passed, 1);
  Status status = checkThenCount(-1, &passed);
  EXPECT_EQ(status, invalidArgument("negative"));
  EXPECT_EQ(passed, 1);
}

TEST(StatusMacrosTest, AssignOrReturnAssignsValueOrPropagatesError) {
  StatusOr<int> ok = quarter(12);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  // 6 halves to 3, which is odd: the second step fails.
  StatusOr<int> second_fails = quarter(6);
  EXPECT_EQ(second_fails.status(), invalidArgument("odd"));
  StatusOr<int> first_fails = quarter(5);
  EXPECT_EQ(first_fails.status(), invalidArgument("odd"));
}

TEST(StatusMacrosTest, AssignOrReturnAssignsToExistingVariable) {
  StatusOr<int> ok = quarterIntoExisting(20);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_FALSE(quarterIntoExisting(3).ok());
}

}  // namespace
}  // namespace dw
