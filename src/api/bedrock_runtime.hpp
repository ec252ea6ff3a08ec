#pragma once

#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "api/authenticator.hpp"
#include "core/error.hpp"
#include "http/exchange.hpp"
#include "routing/router.hpp"

namespace sluice::api {

namespace net = boost::asio;

/// The Bedrock Runtime front door: `POST /model/{modelId}/converse`, `/converse-stream`,
/// `/invoke` and `/invoke-with-response-stream`, on the wire exactly as AWS defines them, so
/// unmodified AWS SDKs are clients. Requests become canonical Converse requests (InvokeModel
/// bodies are translated from the model's own format); answers are translated back, streams
/// framed as AWS event streams. The router must outlive this object.
class BedrockRuntimeApi final {
 public:
  /// `max_body_bytes` is the server's body limit, which the size error names (Bedrock's own is
  /// 25,000,000 bytes). The router and the authenticator must outlive the front door.
  BedrockRuntimeApi(routing::Router& router, const Authenticator& authenticator,
                    std::size_t max_body_bytes);

  /// True for paths this front door serves.
  static bool Matches(std::string_view path);

  net::awaitable<void> Handle(http::Exchange& exchange);

 private:
  routing::Router& router_;
  const Authenticator& authenticator_;
  std::size_t max_body_bytes_;
};

/// A Bedrock-shaped error response: the status, `x-amzn-ErrorType`, `x-amzn-RequestId` and a
/// `{"message": ...}` body.
http::Response MakeBedrockError(const core::Error& error, std::string_view request_id,
                                unsigned version = 11);

/// Bedrock's answer to a path or method it does not serve.
http::Response MakeUnknownOperation(std::string_view request_id, unsigned version = 11);

}  // namespace sluice::api
