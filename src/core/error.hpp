#pragma once

#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace sluice::core {

/// The failures a caller can see, named after the Bedrock Runtime exceptions they become on the
/// wire. Each front door maps them to its own error shape; providers map upstream errors into
/// them. Authentication errors use the names AWS's coral layer sends.
enum class ErrorCode {
  kValidation,
  kAccessDenied,
  kUnrecognizedClient,
  kInvalidSignature,
  kResourceNotFound,
  kModelTimeout,
  kThrottling,
  kServiceQuotaExceeded,
  kModelNotReady,
  kModelError,
  kModelStreamError,
  kInternalServer,
  kServiceUnavailable,
};

/// An error with the message the caller reads. Messages never hold secrets or prompt text.
struct Error {
  ErrorCode code = ErrorCode::kInternalServer;
  std::string message;
};

/// Shape name of the exception, e.g. `ThrottlingException`.
std::string_view ExceptionName(ErrorCode code);

/// Member name of the exception in an event-stream union, e.g. `throttlingException`.
std::string_view StreamExceptionName(ErrorCode code);

/// HTTP status Bedrock answers with for this error.
int HttpStatus(ErrorCode code);

/// True for errors worth retrying on another deployment (throttles, timeouts, server faults).
bool IsRetryable(ErrorCode code);

/// Lets `result<T, Error>::value()` throw when misused; request-path code checks `has_value()`.
[[noreturn]] void throw_exception_from_error(const Error& error,
                                             const boost::source_location& location);

/// Value or error, returned across module boundaries.
template <typename T>
using Result = boost::system::result<T, Error>;

}  // namespace sluice::core
