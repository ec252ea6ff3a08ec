#include "api/authenticator.hpp"

#include <chrono>
#include <vector>

#include <spdlog/spdlog.h>

#include "aws/sigv4.hpp"

namespace sluice::api {

namespace {

namespace bhttp = boost::beast::http;

// The signing name of Bedrock's runtime and control plane, which every Bedrock client signs for.
constexpr std::string_view kSigningService = "bedrock";

constexpr std::string_view kSigV4Prefix = "AWS4-HMAC-SHA256";
constexpr std::string_view kBearerPrefix = "Bearer ";

// AWS's wording for a key it does not know (or no longer knows).
constexpr std::string_view kUnknownKey = "The security token included in the request is invalid.";

core::Error Refuse(core::ErrorCode code, std::string message) {
  return core::Error{code, std::move(message)};
}

core::Error FromVerifyError(const aws::VerifyError& error) {
  switch (error.code) {
    case aws::VerifyErrorCode::kMissing:
      return Refuse(core::ErrorCode::kAccessDenied, "Missing Authentication Token");
    case aws::VerifyErrorCode::kMalformed:
    case aws::VerifyErrorCode::kExpired:
    case aws::VerifyErrorCode::kMismatch:
    case aws::VerifyErrorCode::kContentHashMismatch:
      break;
  }
  return Refuse(core::ErrorCode::kInvalidSignature, error.message);
}

}  // namespace

AnonymousAccess ParseAnonymousAccess(std::string_view mode) {
  if (mode == "loopback") {
    return AnonymousAccess::kLoopback;
  }
  if (mode == "always") {
    return AnonymousAccess::kAlways;
  }
  return AnonymousAccess::kOff;
}

Authenticator::Authenticator(identity::KeyCache* keys, AnonymousAccess anonymous)
    : keys_(keys), anonymous_(anonymous) {}

const identity::Principal& Authenticator::Anonymous() {
  static const identity::Principal anonymous{.arn = "anonymous", .tags = {}, .is_admin = false};
  return anonymous;
}

bool Authenticator::AllowsAnonymous(const http::ConnectionInfo& connection) const {
  return anonymous_ == AnonymousAccess::kAlways ||
         (anonymous_ == AnonymousAccess::kLoopback && connection.remote_is_loopback);
}

bool Authenticator::MayAdminister(const identity::Principal& principal,
                                  const http::ConnectionInfo& connection) const {
  return principal.is_admin ||
         (anonymous_ == AnonymousAccess::kLoopback && connection.remote_is_loopback);
}

core::Result<identity::Principal> Authenticator::Authenticate(
    const http::Exchange& exchange) const {
  const auto header = exchange.request()[bhttp::field::authorization];
  const std::string_view authorization(header.data(), header.size());

  if (authorization.starts_with(kSigV4Prefix)) {
    return VerifySigV4(exchange);
  }
  if (authorization.starts_with(kBearerPrefix) && keys_ != nullptr) {
    auto found = keys_->FindByBearer(authorization.substr(kBearerPrefix.size()));
    if (!found) {
      spdlog::error("key lookup failed error=\"{}\"", found.error().message);
      return Refuse(core::ErrorCode::kInternalServer, "The key store is unavailable.");
    }
    if (*found) {
      return std::move(**found);
    }
  }
  if (AllowsAnonymous(exchange.connection())) {
    return Anonymous();
  }
  if (authorization.empty()) {
    return Refuse(core::ErrorCode::kAccessDenied, "Missing Authentication Token");
  }
  return Refuse(core::ErrorCode::kUnrecognizedClient, std::string(kUnknownKey));
}

core::Result<identity::Principal> Authenticator::VerifySigV4(const http::Exchange& exchange) const {
  const auto& request = exchange.request();
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');

  // The verifier sees the headers as they arrived. Over HTTP/2 the SDK signs `:authority`, whose
  // value the server keeps in the Host field.
  std::vector<aws::HeaderField> headers;
  headers.reserve(16);
  for (const auto& field : request) {
    headers.emplace_back(std::string_view(field.name_string()), std::string_view(field.value()));
  }
  if (exchange.connection().protocol == http::Protocol::kHttp2) {
    const auto host = request[bhttp::field::host];
    headers.emplace_back(":authority", std::string_view(host.data(), host.size()));
  }
  const std::string payload_hash = aws::HexSha256(request.body());
  const aws::RequestView view{.method = std::string_view(request.method_string()),
                              .path = target.substr(0, question),
                              .query = question == std::string_view::npos
                                           ? std::string_view()
                                           : target.substr(question + 1),
                              .headers = headers,
                              .payload_hash = payload_hash};

  auto parsed = aws::ParseRequestAuthorization(view);
  if (!parsed) {
    return FromVerifyError(parsed.error());
  }
  std::optional<identity::AccessKeyMatch> match;
  if (keys_ != nullptr) {
    auto found = keys_->FindByAccessKey(parsed->access_key_id);
    if (!found) {
      spdlog::error("key lookup failed error=\"{}\"", found.error().message);
      return Refuse(core::ErrorCode::kInternalServer, "The key store is unavailable.");
    }
    match = std::move(*found);
  }
  if (!match) {
    // A key sluice does not know: anonymous where that is allowed, refused elsewhere.
    if (AllowsAnonymous(exchange.connection())) {
      return Anonymous();
    }
    return Refuse(core::ErrorCode::kUnrecognizedClient, std::string(kUnknownKey));
  }

  aws::VerifyOptions options;
  options.service = kSigningService;
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  auto verified = aws::VerifyRequest(view, *parsed, match->secret_access_key, now, options);
  if (!verified) {
    return FromVerifyError(verified.error());
  }
  return std::move(match->principal);
}

}  // namespace sluice::api
