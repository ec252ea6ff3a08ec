#include "core/error.hpp"

#include <stdexcept>

namespace sluice::core {

std::string_view ExceptionName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kValidation:
      return "ValidationException";
    case ErrorCode::kAccessDenied:
      return "AccessDeniedException";
    case ErrorCode::kUnrecognizedClient:
      return "UnrecognizedClientException";
    case ErrorCode::kInvalidSignature:
      return "InvalidSignatureException";
    case ErrorCode::kResourceNotFound:
      return "ResourceNotFoundException";
    case ErrorCode::kModelTimeout:
      return "ModelTimeoutException";
    case ErrorCode::kThrottling:
      return "ThrottlingException";
    case ErrorCode::kServiceQuotaExceeded:
      return "ServiceQuotaExceededException";
    case ErrorCode::kModelNotReady:
      return "ModelNotReadyException";
    case ErrorCode::kModelError:
      return "ModelErrorException";
    case ErrorCode::kModelStreamError:
      return "ModelStreamErrorException";
    case ErrorCode::kInternalServer:
      return "InternalServerException";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailableException";
  }
  return "InternalServerException";
}

std::string_view StreamExceptionName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kValidation:
      return "validationException";
    case ErrorCode::kThrottling:
      return "throttlingException";
    case ErrorCode::kModelTimeout:
      return "modelTimeoutException";
    case ErrorCode::kModelStreamError:
    case ErrorCode::kModelError:
      return "modelStreamErrorException";
    case ErrorCode::kServiceUnavailable:
      return "serviceUnavailableException";
    default:
      // The stream unions model only the members above; anything else reports as a server fault.
      return "internalServerException";
  }
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kValidation:
    case ErrorCode::kServiceQuotaExceeded:
      return 400;
    case ErrorCode::kAccessDenied:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kInvalidSignature:
      return 403;
    case ErrorCode::kResourceNotFound:
      return 404;
    case ErrorCode::kModelTimeout:
      return 408;
    case ErrorCode::kModelError:
    case ErrorCode::kModelStreamError:
      return 424;
    case ErrorCode::kThrottling:
    case ErrorCode::kModelNotReady:
      return 429;
    case ErrorCode::kInternalServer:
      return 500;
    case ErrorCode::kServiceUnavailable:
      return 503;
  }
  return 500;
}

bool IsRetryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kThrottling:
    case ErrorCode::kModelNotReady:
    case ErrorCode::kModelTimeout:
    case ErrorCode::kInternalServer:
    case ErrorCode::kServiceUnavailable:
      return true;
    default:
      return false;
  }
}

void throw_exception_from_error(const Error& error, const boost::source_location& /*location*/) {
  throw std::runtime_error(std::string(ExceptionName(error.code)) + ": " + error.message);
}

}  // namespace sluice::core
