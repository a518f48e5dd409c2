#pragma once
// Status: the one error value of Bulwark (absl::Status shape, no exceptions).
// Hostile content is never a Status: it is a Finding (see engine/finding.h).

#include <string>
#include <string_view>
#include <utility>

namespace bulwark {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kDeadlineExceeded,
  kUnavailable,
  kUnimplemented,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

}  // namespace bulwark

#define BULWARK_STATUS_CONCAT_INNER_(a, b) a##b
#define BULWARK_STATUS_CONCAT_(a, b) BULWARK_STATUS_CONCAT_INNER_(a, b)
// A unique name per use, so that uses nested in lambdas inside another use do not shadow.
#define BULWARK_RETURN_IF_ERROR(expr) \
  BULWARK_RETURN_IF_ERROR_IMPL_(BULWARK_STATUS_CONCAT_(bulwark_status_, __COUNTER__), expr)
#define BULWARK_RETURN_IF_ERROR_IMPL_(name, expr) \
  do {                                            \
    ::bulwark::Status name = (expr);              \
    if (!name.ok()) return name;                  \
  } while (0)
